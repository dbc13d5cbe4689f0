//! Maps drawn from a reduced-resolution copy of a layer's field (a COG's overviews)
//! when the map's pixels are much coarser than the grid's cells: the coarsest copy
//! still at least as fine as a map pixel, so a small map of a large raster reads a few
//! overview tiles, not the whole full-resolution field.

use std::sync::Arc;

use axum::http::StatusCode;

use crate::app::AppState;
use crate::cache::VersionKey;
use crate::catalog::Dataset;
use crate::subset::{DimSlice, HorizontalGrid};

use super::error::{ExceptionCode, WmsError};
use super::layers::Layer;
use super::reduced::ReducedSlice;
use super::render::MapView;
use super::service::Wms;

/// Lattice of map pixels (per side) whose neighbours are located on the grid to
/// measure how many grid cells a pixel spans.
const PROBES: u32 = 16;
/// A copy up to this much coarser than a pixel still counts as fine enough: the
/// measure of cells per pixel is from nearest cells, exact to about a cell over
/// `PROBES` pixels.
const TOLERANCE: f64 = 1.02;

/// A layer's field as a map draws it: the full-resolution slice or a reduced copy,
/// with the grid and the offsets of one row / column step in `values`.
pub(super) struct MapField {
    pub grid: Arc<HorizontalGrid>,
    pub values: Arc<Vec<f32>>,
    pub row_stride: usize,
    pub col_stride: usize,
}

/// The smallest number of grid cells one map pixel spans, along either map axis,
/// measured between neighbouring probes of a lattice of pixels that both fall on the
/// grid; `None` when fewer than two do (the grid is a speck on the map, or off it).
pub(super) fn cells_per_pixel(grid: &HorizontalGrid, view: &MapView) -> Option<f64> {
    let at = |i: u32, n: u32| (i as u64 * (n.max(1) - 1) as u64 / PROBES as u64) as u32;
    let cells: Vec<Vec<Option<(usize, usize)>>> = (0..=PROBES)
        .map(|j| {
            (0..=PROBES)
                .map(|i| {
                    let (lon, lat) = view.lonlat(at(i, view.width), at(j, view.height))?;
                    grid.locate(lon, lat)
                })
                .collect()
        })
        .collect();
    let span = |a: (usize, usize), b: (usize, usize), pixels: u32| {
        let dr = a.0.abs_diff(b.0) as f64;
        let dc = a.1.abs_diff(b.1) as f64;
        (pixels > 0).then(|| dr.hypot(dc) / pixels as f64)
    };
    let mut least: Option<f64> = None;
    for j in 0..=PROBES as usize {
        for i in 0..=PROBES as usize {
            let Some(here) = cells[j][i] else { continue };
            let right = (i < PROBES as usize)
                .then(|| cells[j][i + 1])
                .flatten()
                .and_then(|c| {
                    span(
                        here,
                        c,
                        at(i as u32 + 1, view.width) - at(i as u32, view.width),
                    )
                });
            let down = (j < PROBES as usize)
                .then(|| cells[j + 1][i])
                .flatten()
                .and_then(|c| {
                    span(
                        here,
                        c,
                        at(j as u32 + 1, view.height) - at(j as u32, view.height),
                    )
                });
            for d in [right, down].into_iter().flatten() {
                least = Some(least.map_or(d, |l: f64| l.min(d)));
            }
        }
    }
    least
}

/// The coarsest of `levels` (rows × cols of each reduced copy of a `full` rows × cols
/// grid) whose cells are no larger than `cells_per_pixel` full-grid cells; `None`
/// when none is (draw the full resolution).
pub(super) fn coarsest_fine_enough(
    full: (usize, usize),
    levels: &[(usize, usize)],
    cells_per_pixel: f64,
) -> Option<usize> {
    levels
        .iter()
        .enumerate()
        .filter(|(_, (r, c))| *r > 0 && *c > 0 && *r <= full.0 && *c <= full.1)
        .map(|(k, (r, c))| {
            let factor = (full.0 as f64 / *r as f64).max(full.1 as f64 / *c as f64);
            (k, factor)
        })
        .filter(|(_, factor)| *factor <= cells_per_pixel * TOLERANCE)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

/// Offsets of one row and one column step in a row-major 2-D slice of `shape`.
fn strides(layer: &Layer, shape: &[usize]) -> (usize, usize) {
    let (first, second) = (
        layer.row_dim.min(layer.col_dim),
        layer.row_dim.max(layer.col_dim),
    );
    let stride = |d: usize| if d == first { shape[second] } else { 1 };
    (stride(layer.row_dim), stride(layer.col_dim))
}

/// The reduced copy of a layer's field a map of `view` should draw: (level, shape).
fn map_level(ds: &Dataset, layer: &Layer, view: &MapView) -> Option<(usize, Vec<usize>)> {
    let shapes = ds.reduced_resolutions(&layer.var_path);
    let usable: Vec<(usize, usize)> = shapes
        .iter()
        .map(|s| {
            // Only the horizontal dimensions may be reduced.
            let same_elsewhere = s.len() == layer.shape.len()
                && (0..s.len())
                    .all(|d| d == layer.row_dim || d == layer.col_dim || s[d] == layer.shape[d]);
            if same_elsewhere {
                (s[layer.row_dim], s[layer.col_dim])
            } else {
                (0, 0)
            }
        })
        .collect();
    if usable.is_empty() {
        return None;
    }
    let full = (layer.shape[layer.row_dim], layer.shape[layer.col_dim]);
    let cpp = cells_per_pixel(&layer.grid, view).unwrap_or(f64::INFINITY);
    let level = coarsest_fine_enough(full, &usable, cpp)?;
    Some((level, shapes[level].clone()))
}

impl Wms {
    /// The full-resolution cells under the map only, when the whole slice is over the
    /// response limit and the grid is rectilinear in a CRS that keeps rows and columns
    /// apart (a map zoomed in on a big COG); `None` otherwise (the whole slice is read,
    /// and cached for the layer's other maps). Not cached: the rendered image is.
    async fn full_window(
        &self,
        state: &AppState,
        ds: &Arc<Dataset>,
        layer: &Arc<Layer>,
        t: usize,
        z: usize,
        view: &MapView,
    ) -> Result<Option<MapField>, WmsError> {
        let elem = ds
            .meta
            .variable(&layer.var_path)
            .and_then(|v| v.dtype.size())
            .unwrap_or(8) as u64;
        let limit = state.config.limits.max_response_bytes;
        if (layer.slice_len() as u64).saturating_mul(elem) <= limit {
            return Ok(None);
        }
        let HorizontalGrid::Rectilinear(grid) = layer.grid.as_ref() else {
            return Ok(None);
        };
        let Some(window) = super::map_window::cells_under(grid, view) else {
            return Ok(None);
        };
        let [r0, r1, c0, c1] = window;
        let (rows, cols) = (r1 - r0 + 1, c1 - c0 + 1);
        if (rows as u64 * cols as u64).saturating_mul(elem) > limit {
            return Ok(None);
        }
        let Some(sub) = super::map_window::sub_grid(grid, window) else {
            return Ok(None);
        };
        let mut slab = layer.slab(t, z);
        slab.dims[layer.row_dim] = DimSlice {
            start: r0,
            stride: 1,
            count: rows,
        };
        slab.dims[layer.col_dim] = DimSlice {
            start: c0,
            stride: 1,
            count: cols,
        };
        let arr = ds
            .read(&layer.var_path, &slab)
            .await
            .map_err(|e| WmsError::read_failed(&layer.var_path, &e))?;
        let mut shape = layer.shape.clone();
        shape[layer.row_dim] = rows;
        shape[layer.col_dim] = cols;
        let (row_stride, col_stride) = strides(layer, &shape);
        Ok(Some(MapField {
            grid: Arc::new(HorizontalGrid::Rectilinear(sub)),
            values: Arc::new(layer.decode(&arr)),
            row_stride,
            col_stride,
        }))
    }

    /// The field a map of `view` draws for a layer at (time, elevation) indices: a
    /// reduced copy when the dataset stores one fine enough for the map's pixels,
    /// else the full-resolution slice.
    pub(super) async fn map_field(
        &self,
        state: &AppState,
        ds: &Arc<Dataset>,
        layer: &Arc<Layer>,
        t: usize,
        z: usize,
        view: &MapView,
    ) -> Result<MapField, WmsError> {
        let Some((level, shape)) = map_level(ds, layer, view) else {
            if let Some(field) = self.full_window(state, ds, layer, t, z, view).await? {
                return Ok(field);
            }
            let values = self.slice(state, ds, layer, t, z).await?;
            return Ok(MapField {
                grid: layer.grid.clone(),
                values,
                row_stride: layer.row_stride,
                col_stride: layer.col_stride,
            });
        };
        let elem = ds
            .meta
            .variable(&layer.var_path)
            .and_then(|v| v.dtype.size())
            .unwrap_or(8);
        let (rows, cols) = (shape[layer.row_dim], shape[layer.col_dim]);
        let bytes = (rows * cols * elem) as u64;
        let limit = state.config.limits.max_response_bytes;
        if bytes > limit {
            return Err(WmsError {
                code: Some(ExceptionCode::NoApplicableCode),
                message: format!(
                    "layer {} has {bytes} bytes per map at this scale, over the server's limit of {limit}",
                    layer.full_name()
                ),
                status: StatusCode::PAYLOAD_TOO_LARGE,
            });
        }
        let mut slab = layer.slab(t, z);
        slab.dims[layer.row_dim] = DimSlice::full(rows);
        slab.dims[layer.col_dim] = DimSlice::full(cols);
        let key = (VersionKey::of(ds), layer.var_path.clone(), level, t, z);
        let (d2, l2) = (ds.clone(), layer.clone());
        let reduced = self
            .caches
            .reduced
            .try_get_with(key, async move {
                let grid = l2.grid.reduced(rows, cols).ok_or_else(|| {
                    WmsError::internal(format!("no grid for {} at {rows}×{cols}", l2.var_path))
                })?;
                let arr = d2
                    .read_reduced(&l2.var_path, level, &slab)
                    .await
                    .map_err(|e| WmsError::read_failed(&l2.var_path, &e))?;
                Ok::<_, WmsError>(Arc::new(ReducedSlice {
                    grid: Arc::new(grid),
                    values: Arc::new(l2.decode(&arr)),
                }))
            })
            .await
            .map_err(|e: Arc<WmsError>| (*e).clone())?;
        let (row_stride, col_stride) = strides(layer, &shape);
        Ok(MapField {
            grid: reduced.grid.clone(),
            values: reduced.values.clone(),
            row_stride,
            col_stride,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::crs::Crs;
    use super::*;
    use crate::subset::{CoordAxis, RectilinearGrid};

    fn grid(n: usize) -> HorizontalGrid {
        // n × n cells over 0..16° E, 40..56° N.
        let step = 16.0 / n as f64;
        let lon = CoordAxis::new((0..n).map(|i| (i as f64 + 0.5) * step).collect()).unwrap();
        let lat = CoordAxis::new((0..n).map(|i| 56.0 - (i as f64 + 0.5) * step).collect()).unwrap();
        HorizontalGrid::Rectilinear(RectilinearGrid::new(lon, lat))
    }

    fn view(bbox: [f64; 4], size: u32) -> MapView {
        MapView {
            crs: Crs::parse("CRS:84").unwrap(),
            bbox,
            width: size,
            height: size,
        }
    }

    #[test]
    fn cells_per_pixel_of_whole_and_zoomed_maps() {
        let g = grid(2048);
        let whole = cells_per_pixel(&g, &view([0.0, 40.0, 16.0, 56.0], 256)).unwrap();
        assert!((whole - 8.0).abs() < 0.1, "{whole}");
        let zoomed = cells_per_pixel(&g, &view([0.0, 40.0, 2.0, 42.0], 256)).unwrap();
        assert!((zoomed - 1.0).abs() < 0.05, "{zoomed}");
        // Off the grid entirely.
        assert!(cells_per_pixel(&g, &view([100.0, 0.0, 110.0, 10.0], 256)).is_none());
    }

    #[test]
    fn the_coarsest_copy_still_as_fine_as_a_pixel() {
        let levels = [(1024, 1024), (512, 512), (256, 256)];
        assert_eq!(coarsest_fine_enough((2048, 2048), &levels, 8.0), Some(2));
        assert_eq!(coarsest_fine_enough((2048, 2048), &levels, 7.99), Some(2));
        assert_eq!(coarsest_fine_enough((2048, 2048), &levels, 7.0), Some(1));
        assert_eq!(coarsest_fine_enough((2048, 2048), &levels, 2.5), Some(0));
        assert_eq!(coarsest_fine_enough((2048, 2048), &levels, 1.0), None);
        assert_eq!(
            coarsest_fine_enough((2048, 2048), &levels, f64::INFINITY),
            Some(2)
        );
        // GDAL's overview sizes round up: 1000 → 500, 250, 125 (factor 8).
        let odd = [(500, 500), (250, 250), (125, 125)];
        assert_eq!(coarsest_fine_enough((1000, 1000), &odd, 8.0), Some(2));
        // A copy reduced along one axis only counts by its coarser axis.
        assert_eq!(coarsest_fine_enough((100, 100), &[(100, 25)], 3.0), None);
        // Unusable levels (marked 0 × 0) are never chosen.
        assert_eq!(coarsest_fine_enough((100, 100), &[(0, 0)], 100.0), None);
    }
}
