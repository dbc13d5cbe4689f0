//! The operations: GetCapabilities, GetMap, GetFeatureInfo, GetLegendGraphic and XYZ
//! tiles, with the caches they share (dataset layers, decoded 2-D slices, default
//! colour ranges, rendered images, capabilities documents).

use std::sync::{Arc, OnceLock};

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;

use crate::app::AppState;
use crate::catalog::{CatalogError, Dataset};
use crate::config::WmsConfig;
use crate::http::base_url;
use crate::subset::{DimSlice, Hyperslab};

use super::Version;
use super::capabilities::{self, CapabilitiesInput};
use super::crs::{Crs, tile_bbox};
use super::encode::{self, ImageFormat};
use super::error::{ExceptionCode, ExceptionMode, ImageContext, WmsError, exception_response};
use super::featureinfo::{self, FeatureValue, InfoFormat};
use super::layers::{self, DatasetLayers, Layer};
use super::legend;
use super::params::{Params, parse_bbox, parse_color};
use super::render::{self, Field, MapView};
use super::style::{StyleRequest, robust_range};

/// Which datasets a request sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Dataset(String),
}

impl Scope {
    fn key(&self) -> String {
        match self {
            Scope::All => "*".into(),
            Scope::Dataset(id) => format!("d:{id}"),
        }
    }
}

type SliceKey = (String, String, String, usize, usize);
type Opened = Result<(Arc<Dataset>, Arc<DatasetLayers>), WmsError>;

struct Caches {
    /// (dataset id, etag) → layers.
    layers: moka::future::Cache<(String, String), Arc<DatasetLayers>>,
    /// (dataset id, etag, variable, time index, elevation index) → decoded values.
    slices: moka::future::Cache<SliceKey, Arc<Vec<f32>>>,
    /// (dataset id, etag, variable) → default colour range.
    ranges: moka::future::Cache<(String, String, String), (f64, f64)>,
    /// Rendered images and capabilities documents by request.
    images: moka::future::Cache<String, Bytes>,
    capabilities: moka::future::Cache<String, Bytes>,
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

/// The WMS service state: caches, made on first use from the configuration.
#[derive(Default)]
pub struct Wms {
    caches: OnceLock<Caches>,
}

/// Byte budget of the dataset-layers cache (grids included).
const LAYERS_CACHE_BYTES: u64 = 256 << 20;

/// Images larger than this are not kept in the image cache.
const MAX_CACHED_IMAGE: usize = 2 << 20;

/// An XYZ tile request path: `tiles/{layer}/{z}/{x}/{y}.png`.
#[derive(Debug, Clone, PartialEq)]
pub struct TilePath {
    pub layer: String,
    pub z: u32,
    pub x: u32,
    pub y: u32,
}

impl TilePath {
    pub fn parse(rest: &str) -> Option<TilePath> {
        let rest = rest.strip_prefix("tiles/")?;
        let mut parts = rest.rsplitn(4, '/');
        let y = parts.next()?.strip_suffix(".png")?.parse().ok()?;
        let x = parts.next()?.parse().ok()?;
        let z = parts.next()?.parse().ok()?;
        let layer = parts.next()?.to_string();
        Some(TilePath { layer, z, x, y })
    }
}

/// The 404 of an unknown `/wms/...` path, as a 1.3.0 exception report.
pub fn not_found(path: &str, query: Option<&str>) -> Response {
    let p = Params::parse(query);
    let err = WmsError {
        code: None,
        message: format!("no dataset or tile at /wms/{path}"),
        status: StatusCode::NOT_FOUND,
    };
    exception_response(&err, Version::of_request(&p), ExceptionMode::Xml, None)
}

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
    fn caches(&self, state: &AppState) -> &Caches {
        self.caches
            .get_or_init(|| Caches::new(&state.config.wms, &state.metrics))
    }

    pub async fn handle(
        &self,
        state: &AppState,
        scope: Scope,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Response {
        let p = Params::parse(query);
        let request = p.non_empty("REQUEST").unwrap_or("").to_ascii_lowercase();
        let version = if request.ends_with("capabilities") {
            Version::negotiate(p.non_empty("VERSION").or_else(|| p.non_empty("WMTVER")))
        } else {
            Version::of_request(&p)
        };
        let mode = ExceptionMode::parse(p.non_empty("EXCEPTIONS"));
        if let Some(s) = p.non_empty("SERVICE")
            && !s.eq_ignore_ascii_case("WMS")
        {
            let e = WmsError::invalid(&format!("SERVICE={s}: this is a WMS"));
            return exception_response(&e, version, ExceptionMode::Xml, None);
        }
        let result = match request.as_str() {
            "getcapabilities" | "capabilities" => {
                self.capabilities(state, &scope, headers, version).await
            }
            "getmap" | "map" => {
                let ctx = image_context(&p, &state.config.wms);
                return match self.get_map(state, &scope, &p, version).await {
                    Ok(r) => r,
                    Err(e) => exception_response(&e, version, mode, ctx),
                };
            }
            "getfeatureinfo" | "feature_info" => {
                self.feature_info(state, &scope, &p, version).await
            }
            "getlegendgraphic" => self.legend(state, &scope, &p).await,
            "" => Err(WmsError::missing("missing parameter REQUEST")),
            other => Err(WmsError::new(
                ExceptionCode::OperationNotSupported,
                format!("REQUEST={other} is not supported"),
            )),
        };
        result.unwrap_or_else(|e| exception_response(&e, version, ExceptionMode::Xml, None))
    }

    /// An XYZ tile: a 256×256 Web Mercator GetMap (transparent unless asked).
    pub async fn tile(&self, state: &AppState, tile: TilePath, query: Option<&str>) -> Response {
        let mut p = Params::parse(query);
        let Some(b) = tile_bbox(tile.z, tile.x, tile.y) else {
            let e = WmsError::invalid(&format!("no tile {}/{}/{}", tile.z, tile.x, tile.y));
            return exception_response(&e, Version::V130, ExceptionMode::Xml, None);
        };
        p.set("LAYERS", tile.layer);
        p.set("CRS", "EPSG:3857");
        p.set("BBOX", format!("{},{},{},{}", b[0], b[1], b[2], b[3]));
        p.set("WIDTH", "256");
        p.set("HEIGHT", "256");
        p.set("FORMAT", "image/png");
        if let Some(s) = p.non_empty("STYLE").map(str::to_string) {
            p.set("STYLES", s);
        }
        if p.non_empty("TRANSPARENT").is_none() {
            p.set("TRANSPARENT", "TRUE");
        }
        match self.get_map(state, &Scope::All, &p, Version::V130).await {
            Ok(r) => r,
            Err(e) => exception_response(&e, Version::V130, ExceptionMode::Xml, None),
        }
    }

    async fn dataset_layers(
        &self,
        state: &AppState,
        id: &str,
    ) -> Result<(Arc<Dataset>, Arc<DatasetLayers>), WmsError> {
        let ds = state
            .catalog
            .open(id)
            .await
            .map_err(|e| dataset_error(id, e))?;
        let key = (ds.id.clone(), ds.etag());
        let d2 = ds.clone();
        let layers = self
            .caches(state)
            .layers
            .try_get_with(key, async move { layers::build(&d2).await.map(Arc::new) })
            .await
            .map_err(|e: Arc<WmsError>| (*e).clone())?;
        Ok((ds, layers))
    }

    /// A layer by name within the scope.
    async fn resolve_layer(
        &self,
        state: &AppState,
        scope: &Scope,
        name: &str,
    ) -> Result<(Arc<Dataset>, Arc<Layer>), WmsError> {
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
            .layer(&var)
            .or_else(|| match scope {
                Scope::Dataset(id) => layers.layer(var.strip_prefix(&format!("{id}/"))?),
                Scope::All => None,
            })
            .cloned()
            .ok_or_else(|| WmsError::layer(name))?;
        Ok((ds, layer))
    }

    /// The decoded 2-D field of a layer at (time, elevation) indices.
    async fn slice(
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
        let key = (ds.id.clone(), ds.etag(), layer.var_path.clone(), t, z);
        let (ds, layer) = (ds.clone(), layer.clone());
        let slices = &self.caches(state).slices;
        state
            .metrics
            .cache_lookup("wms_slice", slices.contains_key(&key));
        slices
            .try_get_with(key, async move {
                let arr = ds
                    .read(&layer.var_path, &layer.slab(t, z))
                    .await
                    .map_err(|e| WmsError::read_failed(&layer.var_path, &e))?;
                let p = &layer.packing;
                let values: Vec<f32> = (0..arr.values.len())
                    .map(|i| {
                        p.decode(arr.values.get_f64(i))
                            .map_or(f32::NAN, |v| v as f32)
                    })
                    .collect();
                Ok::<_, WmsError>(Arc::new(values))
            })
            .await
            .map_err(|e: Arc<WmsError>| (*e).clone())
    }

    /// The colour range used when a request gives none: the variable's valid range,
    /// else a robust estimate over the whole variable (read with strides), so all
    /// tiles and times of a layer share one scale.
    async fn default_range(
        &self,
        state: &AppState,
        ds: &Arc<Dataset>,
        layer: &Arc<Layer>,
    ) -> Result<(f64, f64), WmsError> {
        if let Some(r) = layer.packing.valid_range() {
            return Ok(r);
        }
        let key = (ds.id.clone(), ds.etag(), layer.var_path.clone());
        let (ds, layer) = (ds.clone(), layer.clone());
        self.caches(state)
            .ranges
            .try_get_with(key, async move {
                let rank = layer.shape.len().max(1) as f64;
                let per_dim = (SAMPLE as f64).powf(1.0 / rank).ceil() as usize;
                let slab = Hyperslab::new(
                    layer
                        .shape
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
                let arr = ds
                    .read(&layer.var_path, &slab)
                    .await
                    .map_err(|e| WmsError::read_failed(&layer.var_path, &e))?;
                let p = &layer.packing;
                let mut values: Vec<f32> = (0..arr.values.len())
                    .filter_map(|i| p.decode(arr.values.get_f64(i)).map(|v| v as f32))
                    .collect();
                Ok::<_, WmsError>(robust_range(&mut values).unwrap_or((0.0, 1.0)))
            })
            .await
            .map_err(|e: Arc<WmsError>| (*e).clone())
    }

    async fn capabilities(
        &self,
        state: &AppState,
        scope: &Scope,
        headers: &HeaderMap,
        version: Version,
    ) -> Result<Response, WmsError> {
        let base = base_url(state, headers);
        let (service_url, title, ids) = match scope {
            Scope::All => (
                format!("{base}/wms?"),
                "datagate WMS".to_string(),
                state.catalog.entries().keys().cloned().collect::<Vec<_>>(),
            ),
            Scope::Dataset(id) => (
                format!("{base}/wms/{}?", capabilities::url_part(id)),
                format!("datagate WMS: {id}"),
                vec![id.clone()],
            ),
        };
        let opened: Vec<Opened> = futures::stream::iter(ids.clone())
            .map(|id| async move { self.dataset_layers(state, &id).await })
            .buffered(8)
            .collect()
            .await;
        let mut datasets = Vec::new();
        for (id, r) in ids.iter().zip(opened) {
            match r {
                Ok((_, l)) => datasets.push(l),
                Err(e) if matches!(scope, Scope::Dataset(_)) => return Err(e),
                Err(e) => tracing::warn!("wms: skipping dataset {id}: {e}"),
            }
        }
        let key = format!(
            "{}|{}|{}|{}",
            version.as_str(),
            service_url,
            scope.key(),
            datasets
                .iter()
                .map(|d| format!("{}={}", d.id, d.etag))
                .collect::<Vec<_>>()
                .join(",")
        );
        let wms_config = &state.config.wms;
        let body = self
            .caches(state)
            .capabilities
            .get_with(key, async {
                Bytes::from(capabilities::document(&CapabilitiesInput {
                    version,
                    service_url: &service_url,
                    title: &title,
                    datasets: &datasets,
                    short_names: matches!(scope, Scope::Dataset(_)),
                    max_width: wms_config.max_width,
                    max_height: wms_config.max_height,
                    default_palette: &wms_config.default_palette,
                }))
            })
            .await;
        let content_type = match version {
            Version::V130 => "text/xml; charset=utf-8",
            Version::V111 => "application/vnd.ogc.wms_xml; charset=utf-8",
        };
        Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
    }

    /// The map view of a GetMap or GetFeatureInfo request.
    fn view(&self, state: &AppState, p: &Params, version: Version) -> Result<MapView, WmsError> {
        let crs_name = p
            .non_empty("CRS")
            .or_else(|| p.non_empty("SRS"))
            .ok_or_else(|| WmsError::missing("missing parameter CRS (SRS in 1.1.1)"))?;
        let crs = Crs::parse(crs_name)?;
        let bbox = crs.bbox_xy(version, parse_bbox(p.required("BBOX")?)?);
        let c = &state.config.wms;
        let width = p.dimension("WIDTH", c.max_width)?;
        let height = p.dimension("HEIGHT", c.max_height)?;
        let bytes = width as u64 * height as u64 * 4;
        if bytes > state.config.limits.max_response_bytes {
            return Err(WmsError::too_large(&format!(
                "{width}×{height} pixels exceed the server's response limit"
            )));
        }
        Ok(MapView {
            crs,
            bbox,
            width,
            height,
        })
    }

    async fn get_map(
        &self,
        state: &AppState,
        scope: &Scope,
        p: &Params,
        version: Version,
    ) -> Result<Response, WmsError> {
        let names = p.list("LAYERS");
        if names.is_empty() {
            return Err(WmsError::missing("missing parameter LAYERS"));
        }
        let styles = p.list("STYLES");
        if styles.len() > names.len() {
            return Err(WmsError::new(
                ExceptionCode::StyleNotDefined,
                "STYLES has more entries than LAYERS",
            ));
        }
        let format = ImageFormat::parse(p.non_empty("FORMAT").unwrap_or("image/png"))?;
        let view = self.view(state, p, version)?;
        let transparent = p.flag("TRANSPARENT")?.unwrap_or(false);
        let background = match p.non_empty("BGCOLOR") {
            Some(v) => parse_color(v)
                .ok_or_else(|| WmsError::invalid(&format!("BGCOLOR={v} is not a colour")))?,
            None => [255, 255, 255, 255],
        };
        // Resolve everything before drawing anything.
        let mut jobs = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let (ds, layer) = self.resolve_layer(state, scope, name).await?;
            let t = layer.time_index(p.non_empty("TIME"))?;
            let z = layer.elevation_index(p.non_empty("ELEVATION"))?;
            let style = StyleRequest::from_params(
                p,
                styles.get(i).map_or("", String::as_str),
                &state.config.wms.default_palette,
            )?;
            jobs.push((ds, layer, t, z, style));
        }
        let key = format!(
            "{}|{}|{}",
            scope.key(),
            p.canonical(),
            jobs.iter()
                .map(|j| j.0.etag())
                .collect::<Vec<_>>()
                .join(",")
        );
        let caches = self.caches(state);
        let cached = caches.images.get(&key).await;
        state.metrics.cache_lookup("wms_image", cached.is_some());
        if let Some(bytes) = cached {
            return Ok(image_response(format, bytes));
        }
        let mut fields = Vec::new();
        for (ds, layer, t, z, style) in jobs {
            let range = match style.range {
                Some(r) => r,
                None => self.default_range(state, &ds, &layer).await?,
            };
            let values = self.slice(state, &ds, &layer, t, z).await?;
            fields.push((layer, values, style.scale(range)));
        }
        let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, WmsError> {
            let n = view.width as usize * view.height as usize * 4;
            let mut canvas = vec![0u8; n];
            let mut scratch = Vec::new();
            for (k, (layer, values, scale)) in fields.iter().enumerate() {
                let field = Field {
                    grid: &layer.grid,
                    values,
                    row_stride: layer.row_stride,
                    col_stride: layer.col_stride,
                };
                if k == 0 {
                    render::render(field, scale, &view, &mut canvas);
                } else {
                    scratch.clear();
                    scratch.resize(n, 0);
                    render::render(field, scale, &view, &mut scratch);
                    render::composite_over(&mut canvas, &scratch);
                }
            }
            if !transparent || format == ImageFormat::Jpeg {
                let mut bg = background;
                bg[3] = 255;
                let mut out = bg.repeat(n / 4);
                render::composite_over(&mut out, &canvas);
                canvas = out;
            }
            encode::encode(&canvas, view.width, view.height, format, background)
        })
        .await
        .map_err(|e| WmsError::internal(format!("rendering failed: {e}")))??;
        let bytes = Bytes::from(bytes);
        if bytes.len() <= MAX_CACHED_IMAGE {
            caches.images.insert(key, bytes.clone()).await;
        }
        Ok(image_response(format, bytes))
    }

    async fn feature_info(
        &self,
        state: &AppState,
        scope: &Scope,
        p: &Params,
        version: Version,
    ) -> Result<Response, WmsError> {
        let mut names = p.list("QUERY_LAYERS");
        if names.is_empty() {
            names = p.list("LAYERS");
        }
        if names.is_empty() {
            return Err(WmsError::missing("missing parameter QUERY_LAYERS"));
        }
        let format = InfoFormat::parse(p.non_empty("INFO_FORMAT"))?;
        let view = self.view(state, p, version)?;
        let pixel = |a: &str, b: &str| -> Result<u32, WmsError> {
            let v = p
                .non_empty(a)
                .or_else(|| p.non_empty(b))
                .ok_or_else(|| WmsError::missing(&format!("missing parameter {a}")))?;
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .map(|x| x as u32)
                .ok_or_else(|| {
                    WmsError::new(
                        ExceptionCode::InvalidPoint,
                        format!("{a}={v} is not a pixel"),
                    )
                })
        };
        let (i_name, j_name) = match version {
            Version::V130 => (("I", "X"), ("J", "Y")),
            Version::V111 => (("X", "I"), ("Y", "J")),
        };
        let i = pixel(i_name.0, i_name.1)?;
        let j = pixel(j_name.0, j_name.1)?;
        if i >= view.width || j >= view.height {
            return Err(WmsError::new(
                ExceptionCode::InvalidPoint,
                format!(
                    "pixel ({i}, {j}) is outside the {}×{} map",
                    view.width, view.height
                ),
            ));
        }
        let lonlat = view.lonlat(i, j);
        let mut out = Vec::new();
        for name in &names {
            let (ds, layer) = self.resolve_layer(state, scope, name).await?;
            let t = layer.time_index(p.non_empty("TIME"))?;
            let z = layer.elevation_index(p.non_empty("ELEVATION"))?;
            let cell = lonlat.and_then(|(lon, lat)| layer.grid.locate(lon, lat));
            let value = match cell {
                Some((r, c)) => {
                    let values = self.slice(state, &ds, &layer, t, z).await?;
                    let v = values[layer.offset(r, c)];
                    (!v.is_nan()).then_some(v as f64)
                }
                None => None,
            };
            let centre = cell.map(|(r, c)| layer.grid.cell_centre(r, c));
            out.push(FeatureValue {
                layer: name.clone(),
                longitude: lonlat.map_or(f64::NAN, |l| l.0),
                latitude: lonlat.map_or(f64::NAN, |l| l.1),
                cell_longitude: centre.map(|c| c.0),
                cell_latitude: centre.map(|c| c.1),
                time: layer.time.as_ref().map(|a| a.dates[t].to_iso()),
                elevation: layer.elevation.as_ref().map(|a| a.values[z]),
                value,
                units: layer.units.clone(),
            });
        }
        Ok(featureinfo::respond(&out, format))
    }

    async fn legend(
        &self,
        state: &AppState,
        scope: &Scope,
        p: &Params,
    ) -> Result<Response, WmsError> {
        let name = p
            .non_empty("LAYER")
            .or_else(|| p.non_empty("LAYERS"))
            .ok_or_else(|| WmsError::missing("missing parameter LAYER"))?;
        let style = p
            .non_empty("STYLE")
            .or_else(|| p.non_empty("STYLES"))
            .unwrap_or("");
        let (ds, layer) = self.resolve_layer(state, scope, name).await?;
        let request = StyleRequest::from_params(p, style, &state.config.wms.default_palette)?;
        let range = match request.range {
            Some(r) => r,
            None => self.default_range(state, &ds, &layer).await?,
        };
        let scale = request.scale(range);
        let size = |n: &str, default: u32| -> Result<u32, WmsError> {
            match p.non_empty(n) {
                None => Ok(default),
                Some(_) => p.dimension(n, 2048),
            }
        };
        let width = size("WIDTH", legend::DEFAULT_WIDTH)?;
        let height = size("HEIGHT", legend::DEFAULT_HEIGHT)?;
        let bar_only = p.flag("COLORBARONLY")?.unwrap_or(false);
        let format = ImageFormat::parse(p.non_empty("FORMAT").unwrap_or("image/png"))?;
        let canvas = legend::draw(&scale, layer.units.as_deref(), width, height, bar_only);
        let bytes = encode::encode(&canvas.rgba, width, height, format, [255, 255, 255, 255])?;
        Ok(image_response(format, Bytes::from(bytes)))
    }
}

/// Samples read to estimate a default colour range.
const SAMPLE: usize = 1 << 20;

fn image_response(format: ImageFormat, bytes: Bytes) -> Response {
    ([(header::CONTENT_TYPE, format.mime())], bytes).into_response()
}

/// What an image exception needs, when the request gives it well enough.
fn image_context(p: &Params, c: &WmsConfig) -> Option<ImageContext> {
    let width = p.dimension("WIDTH", c.max_width).ok()?;
    let height = p.dimension("HEIGHT", c.max_height).ok()?;
    Some(ImageContext {
        width,
        height,
        format: ImageFormat::parse(p.non_empty("FORMAT").unwrap_or("image/png"))
            .unwrap_or(ImageFormat::Png),
        transparent: p.flag("TRANSPARENT").ok().flatten().unwrap_or(false),
        background: p
            .non_empty("BGCOLOR")
            .and_then(parse_color)
            .unwrap_or([255, 255, 255, 255]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_paths() {
        assert_eq!(
            TilePath::parse("tiles/a/b.nc/sst/3/4/5.png"),
            Some(TilePath {
                layer: "a/b.nc/sst".into(),
                z: 3,
                x: 4,
                y: 5
            })
        );
        assert_eq!(TilePath::parse("tiles/x/1/2/3.jpg"), None);
        assert_eq!(TilePath::parse("sst.nc"), None);
        assert_eq!(TilePath::parse("tiles/1/2/3.png"), None);
    }
}
