//! The grid of a reduced-resolution copy of a field (a COG overview): each reduced
//! cell stands for an equal share of the full grid's cells, so its centre is the full
//! grid's coordinates interpolated at the middle of that share.

use super::{CoordAxis, CurvilinearGrid, HorizontalGrid, RectilinearGrid};

/// The fractional full-grid index of the centre of reduced cell `i`, when `n` cells
/// are reduced to `m`: cell `i` covers `[i·n/m, (i+1)·n/m)`.
fn centre_index(i: usize, n: usize, m: usize) -> f64 {
    (i as f64 + 0.5) * n as f64 / m as f64 - 0.5
}

/// Linear interpolation of `values` at fractional index `p` (clamped to the ends).
fn interpolate(values: &[f64], p: f64) -> f64 {
    let last = values.len() - 1;
    let p = p.clamp(0.0, last as f64);
    let k = (p.floor() as usize).min(last.saturating_sub(1));
    if last == 0 {
        return values[0];
    }
    let t = p - k as f64;
    values[k] * (1.0 - t) + values[k + 1] * t
}

fn reduced_axis(axis: &CoordAxis, m: usize) -> Option<CoordAxis> {
    let v = axis.values();
    let n = v.len();
    if m == 0 || m > n {
        return None;
    }
    CoordAxis::new(
        (0..m)
            .map(|i| interpolate(v, centre_index(i, n, m)))
            .collect(),
    )
    .ok()
}

impl HorizontalGrid {
    /// The grid of this grid's field reduced to `rows` × `cols` cells; `None` when it
    /// would not be smaller or not be a grid.
    pub fn reduced(&self, rows: usize, cols: usize) -> Option<HorizontalGrid> {
        let (ny, nx) = self.shape();
        if rows == 0 || cols == 0 || rows > ny || cols > nx {
            return None;
        }
        match self {
            HorizontalGrid::Rectilinear(g) => Some(HorizontalGrid::Rectilinear(
                RectilinearGrid::new(reduced_axis(g.lon(), cols)?, reduced_axis(g.lat(), rows)?),
            )),
            HorizontalGrid::Curvilinear(_) => {
                // Bilinear blend of the four surrounding full-grid centres (longitudes
                // in the grid's contiguous frame, so no blend crosses the antimeridian).
                let mut lon = Vec::with_capacity(rows * cols);
                let mut lat = Vec::with_capacity(rows * cols);
                let axis = |p: f64, n: usize| {
                    let p = p.clamp(0.0, (n - 1) as f64);
                    let k = (p.floor() as usize).min(n.saturating_sub(2));
                    (k, (k + 1).min(n - 1), p - k as f64)
                };
                for r in 0..rows {
                    let (r0, r1, tr) = axis(centre_index(r, ny, rows), ny);
                    for c in 0..cols {
                        let (c0, c1, tc) = axis(centre_index(c, nx, cols), nx);
                        let corners = [
                            (self.cell_centre(r0, c0), (1.0 - tr) * (1.0 - tc)),
                            (self.cell_centre(r0, c1), (1.0 - tr) * tc),
                            (self.cell_centre(r1, c0), tr * (1.0 - tc)),
                            (self.cell_centre(r1, c1), tr * tc),
                        ];
                        lon.push(corners.iter().map(|((x, _), w)| x * w).sum());
                        lat.push(corners.iter().map(|((_, y), w)| y * w).sum());
                    }
                }
                CurvilinearGrid::new(rows, cols, &lon, &lat).map(HorizontalGrid::Curvilinear)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduced_cells_are_centred_on_their_share() {
        // 8 cells of 1° from 0.5 to 7.5, reduced to 4 (2 each) and to 3 (8/3 each).
        let lon = CoordAxis::new((0..8).map(|i| i as f64 + 0.5).collect()).unwrap();
        let lat = CoordAxis::new((0..6).map(|i| 50.5 - i as f64).collect()).unwrap();
        let grid = HorizontalGrid::Rectilinear(RectilinearGrid::new(lon, lat));
        let HorizontalGrid::Rectilinear(r) = grid.reduced(3, 4).unwrap() else {
            panic!("rectilinear")
        };
        assert_eq!(r.lon().values(), &[1.0, 3.0, 5.0, 7.0]);
        assert_eq!(r.lat().values(), &[50.0, 48.0, 46.0]);
        let HorizontalGrid::Rectilinear(r) = grid.reduced(6, 3).unwrap() else {
            panic!("rectilinear")
        };
        let want = [4.0 / 3.0, 4.0, 20.0 / 3.0];
        for (a, b) in r.lon().values().iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{a} {b}");
        }
        assert!(grid.reduced(7, 4).is_none());
        assert!(grid.reduced(0, 4).is_none());
        // One cell left.
        assert_eq!(grid.reduced(1, 1).unwrap().shape(), (1, 1));
    }

    #[test]
    fn curvilinear_grids_reduce_by_blending_centres() {
        let (ny, nx) = (4, 6);
        let lon: Vec<f64> = (0..ny * nx)
            .map(|k| (k % nx) as f64 + 0.1 * (k / nx) as f64)
            .collect();
        let lat: Vec<f64> = (0..ny * nx).map(|k| 40.0 + (k / nx) as f64).collect();
        let grid = HorizontalGrid::Curvilinear(CurvilinearGrid::new(ny, nx, &lon, &lat).unwrap());
        let r = grid.reduced(2, 3).unwrap();
        assert_eq!(r.shape(), (2, 3));
        let (x, y) = r.cell_centre(1, 2);
        // Full-grid index (2.5, 4.5).
        assert!((x - (4.5 + 0.25)).abs() < 1e-9, "{x}");
        assert!((y - 42.5).abs() < 1e-9, "{y}");
    }
}
