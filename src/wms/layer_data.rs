//! What operations draw from: a dataset's layers, a layer by name, its decoded 2-D
//! slices and its default colour range, each through the caches.

use std::sync::Arc;

use axum::http::StatusCode;

use super::caches::ColourRange;
use crate::app::AppState;
use crate::cache::VersionKey;
use crate::catalog::{CatalogError, Dataset};
use crate::subset::{DimSlice, Hyperslab};

use super::error::{ExceptionCode, WmsError};
use super::layers::{self, AnyLayer, DatasetLayers, Layer};
use super::service::{Scope, Wms};
use super::style::robust_range;

/// A dataset opened with its layers, or why not.
pub(super) type Opened = Result<(Arc<Dataset>, Arc<DatasetLayers>), WmsError>;

/// Samples read to estimate a default colour range.
const SAMPLE: usize = 1 << 20;

fn dataset_error(id: &str, e: CatalogError) -> WmsError {
    match e {
        CatalogError::NotFound(_) => WmsError::layer(id),
        e => {
            let status = e.status();
            let mut err = WmsError::unavailable(e.to_string());
            err.status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            err
        }
    }
}

impl Wms {
    pub(super) async fn dataset_layers(
        &self,
        state: &AppState,
        id: &str,
    ) -> Result<(Arc<Dataset>, Arc<DatasetLayers>), WmsError> {
        let ds = state
            .catalog
            .open(id)
            .await
            .map_err(|e| dataset_error(id, e))?;
        let key = VersionKey::of(&ds);
        let d2 = ds.clone();
        let layers = self
            .caches
            .layers
            .try_get_with(key, async move { layers::build(&d2).await.map(Arc::new) })
            .await
            .map_err(|e: Arc<WmsError>| (*e).clone())?;
        Ok((ds, layers))
    }

    /// A layer (gridded or observations) by name within the scope.
    pub(super) async fn resolve_layer(
        &self,
        state: &AppState,
        scope: &Scope,
        name: &str,
    ) -> Result<(Arc<Dataset>, AnyLayer), WmsError> {
        let (id, var) = match scope {
            Scope::All => match state.catalog.resolve(name) {
                Some((id, tail)) if tail.len() > 1 && tail.starts_with('/') => {
                    (id, tail[1..].to_string())
                }
                _ => return Err(WmsError::layer(name)),
            },
            Scope::Dataset(id) => (id.clone(), name.to_string()),
        };
        let (ds, layers) = self
            .dataset_layers(state, &id)
            .await
            .map_err(|e| match e.code {
                Some(ExceptionCode::LayerNotDefined) => WmsError::layer(name),
                _ => e,
            })?;
        let layer = layers
            .any_layer(&var)
            .or_else(|| match scope {
                Scope::Dataset(id) => layers.any_layer(var.strip_prefix(&format!("{id}/"))?),
                Scope::All => None,
            })
            .ok_or_else(|| WmsError::layer(name))?;
        Ok((ds, layer))
    }

    /// The decoded 2-D field of a layer at (time, elevation) indices.
    pub(super) async fn slice(
        &self,
        state: &AppState,
        ds: &Arc<Dataset>,
        layer: &Arc<Layer>,
        t: usize,
        z: usize,
    ) -> Result<Arc<Vec<f32>>, WmsError> {
        let elem = ds
            .meta
            .variable(&layer.var_path)
            .and_then(|v| v.dtype.size())
            .unwrap_or(8);
        let bytes = (layer.slice_len() * elem) as u64;
        let limit = state.config.limits.max_response_bytes;
        if bytes > limit {
            return Err(WmsError {
                code: Some(ExceptionCode::NoApplicableCode),
                message: format!(
                    "layer {} has {bytes} bytes per map, over the server's limit of {limit}",
                    layer.full_name()
                ),
                status: StatusCode::PAYLOAD_TOO_LARGE,
            });
        }
        let key = (VersionKey::of(ds), layer.var_path.clone(), t, z);
        let (ds, layer) = (ds.clone(), layer.clone());
        self.caches
            .slices
            .try_get_with(key, async move {
                let arr = ds
                    .read(&layer.var_path, &layer.slab(t, z))
                    .await
                    .map_err(|e| WmsError::read_failed(&layer.var_path, &e))?;
                Ok::<_, WmsError>(Arc::new(layer.decode(&arr)))
            })
            .await
            .map_err(|e: Arc<WmsError>| (*e).clone())
    }

    /// The colour range used when a request gives none: the variable's valid range,
    /// else a robust estimate over the whole variable (read with strides), so all
    /// tiles and times of a layer share one scale.
    pub(super) async fn default_range(
        &self,
        ds: &Arc<Dataset>,
        layer: &AnyLayer,
    ) -> Result<(f64, f64), WmsError> {
        let (var_path, shape, packing) = layer.variable();
        if let Some(r) = packing.valid_range() {
            return Ok(r);
        }
        let key = (VersionKey::of(ds), var_path.to_string());
        let ds = ds.clone();
        let (var_path, packing) = (var_path.to_string(), packing.clone());
        let copy = match layer {
            AnyLayer::Grid(grid) => super::reduced::coarsest_copy(&ds, grid),
            AnyLayer::Obs(_) => None,
        };
        self.caches
            .ranges
            .try_get_with(key, async move {
                // A stored reduced copy (a COG overview) is sampled instead when there
                // is one: strides through the full raster would touch every tile.
                let shape = copy.as_ref().map_or(shape, |c| c.1.clone());
                let rank = shape.len().max(1) as f64;
                let per_dim = (SAMPLE as f64).powf(1.0 / rank).ceil() as usize;
                let slab = Hyperslab::new(
                    shape
                        .iter()
                        .map(|&n| {
                            let stride = n.div_ceil(per_dim.max(1)).max(1);
                            DimSlice {
                                start: 0,
                                stride,
                                count: n.div_ceil(stride),
                            }
                        })
                        .collect(),
                );
                let arr = match &copy {
                    Some((level, _)) => ds.read_reduced(&var_path, *level, &slab).await,
                    None => ds.read(&var_path, &slab).await,
                }
                .map_err(|e| WmsError::read_failed(&var_path, &e))?;
                let p = &packing;
                let mut values: Vec<f32> = (0..arr.values.len())
                    .filter_map(|i| p.decode(arr.values.get_f64(i)).map(|v| v as f32))
                    .collect();
                let (lo, hi) = robust_range(&mut values).unwrap_or((0.0, 1.0));
                Ok::<_, WmsError>(ColourRange(lo, hi))
            })
            .await
            .map(|r| (r.0, r.1))
            .map_err(|e: Arc<WmsError>| (*e).clone())
    }
}
