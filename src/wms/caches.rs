//! The WMS caches (dataset layers, decoded 2-D slices, default colour ranges, rendered
//! images, capabilities documents) and their construction from the configuration on
//! first use.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::app::AppState;
use crate::config::WmsConfig;

use super::layers::DatasetLayers;

type SliceKey = (String, String, String, usize, usize);

pub(super) struct Caches {
    /// (dataset id, etag) → layers.
    pub(super) layers: moka::future::Cache<(String, String), Arc<DatasetLayers>>,
    /// (dataset id, etag, variable, time index, elevation index) → decoded values.
    pub(super) slices: moka::future::Cache<SliceKey, Arc<Vec<f32>>>,
    /// (dataset id, etag, variable) → default colour range.
    pub(super) ranges: moka::future::Cache<(String, String, String), (f64, f64)>,
    /// Rendered images and capabilities documents by request.
    pub(super) images: moka::future::Cache<String, Bytes>,
    pub(super) capabilities: moka::future::Cache<String, Bytes>,
}

impl Caches {
    fn new(c: &WmsConfig, metrics: &Arc<crate::metrics::Metrics>) -> Caches {
        Caches {
            // Layers hold their grids (a curvilinear grid's arrays can be large).
            layers: moka::future::Cache::builder()
                .weigher(|_k: &(String, String), v: &Arc<DatasetLayers>| {
                    v.approx_bytes().min(u32::MAX as usize) as u32
                })
                .max_capacity(LAYERS_CACHE_BYTES)
                .eviction_listener(metrics.eviction_listener("wms_layers"))
                .build(),
            slices: moka::future::Cache::builder()
                .weigher(|_k: &SliceKey, v: &Arc<Vec<f32>>| {
                    (v.len() * 4).min(u32::MAX as usize) as u32
                })
                .max_capacity(c.slice_cache_bytes)
                .eviction_listener(metrics.eviction_listener("wms_slice"))
                .build(),
            ranges: moka::future::Cache::builder().max_capacity(100_000).build(),
            images: moka::future::Cache::builder()
                .weigher(|k: &String, v: &Bytes| (k.len() + v.len()).min(u32::MAX as usize) as u32)
                .max_capacity(c.image_cache_bytes)
                .eviction_listener(metrics.eviction_listener("wms_image"))
                .build(),
            capabilities: moka::future::Cache::builder()
                .weigher(|k: &String, v: &Bytes| (k.len() + v.len()).min(u32::MAX as usize) as u32)
                .max_capacity(64 << 20)
                .time_to_live(std::time::Duration::from_secs(600))
                .build(),
        }
    }
}

/// The caches, made on first use from the configuration (which arrives with the
/// first request's state).
#[derive(Default)]
pub(super) struct LazyCaches(OnceLock<Caches>);

impl LazyCaches {
    pub(super) fn get(&self, state: &AppState) -> &Caches {
        self.0
            .get_or_init(|| Caches::new(&state.config.wms, &state.metrics))
    }
}

/// Byte budget of the dataset-layers cache (grids included).
const LAYERS_CACHE_BYTES: u64 = 256 << 20;

/// Images larger than this are not kept in the image cache.
pub(super) const MAX_CACHED_IMAGE: usize = 2 << 20;
