//! Reduced-resolution copies of a layer's field (a COG's overviews) as the WMS keeps
//! them: the cached slice with its grid, and the coarsest copy for sampling ranges.
//! Which copy a map draws: `overview.rs`.

use std::sync::Arc;

use crate::cache::{VersionKey, Weight};
use crate::catalog::Dataset;
use crate::subset::HorizontalGrid;

use super::layers::Layer;

/// A reduced copy's decoded slice and grid.
pub(super) struct ReducedSlice {
    pub(super) grid: Arc<HorizontalGrid>,
    pub(super) values: Arc<Vec<f32>>,
}

impl Weight for ReducedSlice {
    fn weight(&self) -> usize {
        self.values.len() * 4 + self.grid.approx_bytes()
    }
}

/// (dataset version, variable, reduced level, time index, elevation index).
pub(super) type ReducedKey = (VersionKey, String, usize, usize, usize);

/// The coarsest reduced copy of a layer's field (level, shape), for sampling its value
/// range cheaply; `None` when the dataset stores none.
pub(super) fn coarsest_copy(ds: &Dataset, layer: &Layer) -> Option<(usize, Vec<usize>)> {
    let shapes = ds.reduced_resolutions(&layer.var_path);
    let last = shapes.len().checked_sub(1)?;
    (shapes[last].len() == layer.shape.len()).then(|| (last, shapes[last].clone()))
}
