//! The window of a rectilinear grid a map shows: when a map needs the full resolution
//! of a field whose whole slice is over the response limit (zoomed in on a big COG),
//! only the rows and columns under the map's pixels are read.

use crate::subset::{CoordAxis, RectilinearGrid};

use super::render::MapView;

/// Inclusive (first row, last row, first column, last column) of the grid cells the
/// map's pixel centres fall in; `None` when none does, or when the map's CRS does not
/// map columns to longitudes and rows to latitudes one to one.
pub(super) fn cells_under(grid: &RectilinearGrid, view: &MapView) -> Option<[usize; 4]> {
    if !view.crs.is_separable() {
        return None;
    }
    let span = |it: &mut dyn Iterator<Item = usize>| {
        it.fold(None, |acc: Option<(usize, usize)>, i| {
            Some(acc.map_or((i, i), |(a, b)| (a.min(i), b.max(i))))
        })
    };
    let cols =
        span(&mut (0..view.width).filter_map(|c| grid.lon_index(view.crs.x_to_lon(view.x(c)))))?;
    let rows =
        span(&mut (0..view.height).filter_map(|r| grid.lat_index(view.crs.y_to_lat(view.y(r)))))?;
    Some([rows.0, rows.1, cols.0, cols.1])
}

/// The grid of the cells `window` selects.
pub(super) fn sub_grid(grid: &RectilinearGrid, window: [usize; 4]) -> Option<RectilinearGrid> {
    let [r0, r1, c0, c1] = window;
    let lon = CoordAxis::new(grid.lon().values().get(c0..=c1)?.to_vec()).ok()?;
    let lat = CoordAxis::new(grid.lat().values().get(r0..=r1)?.to_vec()).ok()?;
    Some(RectilinearGrid::new(lon, lat))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wms::crs::Crs;

    #[test]
    fn a_zoomed_map_covers_a_window_of_cells() {
        // 100 × 200 cells of 0.1° over 0..20 E, 50..60 N (latitudes descending).
        let lon = CoordAxis::new((0..200).map(|i| 0.05 + i as f64 * 0.1).collect()).unwrap();
        let lat = CoordAxis::new((0..100).map(|i| 59.95 - i as f64 * 0.1).collect()).unwrap();
        let grid = RectilinearGrid::new(lon, lat);
        let view = |bbox: [f64; 4], crs: &str| MapView {
            crs: Crs::parse(crs).unwrap(),
            bbox,
            width: 64,
            height: 32,
        };
        let w = cells_under(&grid, &view([2.0, 55.0, 4.0, 56.0], "CRS:84")).unwrap();
        assert_eq!(w, [40, 49, 20, 39]);
        let sub = sub_grid(&grid, w).unwrap();
        assert_eq!(sub.lon().len(), 20);
        assert!((sub.lat().values()[0] - 55.95).abs() < 1e-9);
        // A map reaching past the grid: the cells up to its edge.
        let w = cells_under(&grid, &view([-5.0, 58.0, 1.0, 70.0], "CRS:84")).unwrap();
        assert_eq!(w, [3, 18, 0, 9]);
        // Off the grid.
        assert!(cells_under(&grid, &view([30.0, 0.0, 40.0, 10.0], "CRS:84")).is_none());
        assert!(sub_grid(&grid, [0, 100, 0, 1]).is_none());
    }
}
