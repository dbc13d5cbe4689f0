//! The WMS caches (dataset layers, decoded 2-D slices, default colour ranges, rendered
//! images, capabilities documents), built from the configuration at start-up. Keys
//! carry the dataset version, so a changed file is never drawn from a stale entry.

use std::sync::Arc;

use bytes::Bytes;

use crate::cache::{VersionKey, ViewCache, Weight};
use crate::config::{CacheConfig, WmsConfig};
use crate::metrics::Metrics;

use super::layers::DatasetLayers;

/// (dataset version, variable, time index, elevation index).
pub(super) type SliceKey = (VersionKey, String, usize, usize);

pub(super) struct Caches {
    pub(super) layers: ViewCache<VersionKey, Arc<DatasetLayers>>,
    /// Decoded values of 2-D slices.
    pub(super) slices: ViewCache<SliceKey, Arc<Vec<f32>>>,
    /// Decoded slices of reduced-resolution copies (overviews), with their grids.
    pub(super) reduced: ViewCache<super::reduced::ReducedKey, Arc<super::reduced::ReducedSlice>>,
    /// (dataset version, variable) → default colour range.
    pub(super) ranges: ViewCache<(VersionKey, String), ColourRange>,
    /// Rendered images and capabilities documents by request.
    pub(super) images: ViewCache<String, Bytes>,
    pub(super) capabilities: ViewCache<String, Bytes>,
}

/// A default colour range (min, max).
#[derive(Debug, Clone, Copy)]
pub(super) struct ColourRange(pub f64, pub f64);

impl Weight for ColourRange {
    fn weight(&self) -> usize {
        16
    }
}

impl Weight for DatasetLayers {
    fn weight(&self) -> usize {
        self.approx_bytes()
    }
}

impl Caches {
    pub(super) fn new(wms: &WmsConfig, cache: &CacheConfig, metrics: &Arc<Metrics>) -> Caches {
        Caches {
            // Layers hold their grids (a curvilinear grid's arrays can be large).
            layers: ViewCache::new("wms_layers", LAYERS_CACHE_BYTES, metrics),
            slices: ViewCache::new("wms_slice", wms.slice_cache_bytes, metrics),
            reduced: ViewCache::new("wms_reduced_slice", wms.slice_cache_bytes, metrics),
            ranges: ViewCache::new("wms_range", cache.derived_bytes, metrics),
            images: ViewCache::new("wms_image", wms.image_cache_bytes, metrics),
            capabilities: ViewCache::new("wms_capabilities", cache.derived_bytes, metrics),
        }
    }
}

/// Byte budget of the dataset-layers cache (grids included).
const LAYERS_CACHE_BYTES: u64 = 256 << 20;

/// Images larger than this are not kept in the image cache.
pub(super) const MAX_CACHED_IMAGE: usize = 2 << 20;
