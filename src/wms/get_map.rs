//! GetMap: layers resolved, fields (or observations) read, drawn, composited, encoded
//! and cached; and
//! the map view GetMap and GetFeatureInfo share.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::app::AppState;

use super::Version;
use super::caches::MAX_CACHED_IMAGE;
use super::crs::Crs;
use super::encode::{self, ImageFormat};
use super::error::{ExceptionCode, WmsError};
use super::layers::AnyLayer;
use super::obs_draw::{self, Mark};
use super::obs_map::{MapCost, ObsQuery};
use super::overview::MapField;
use super::params::{Params, parse_bbox, parse_color};
use super::render::{self, Field, MapView};
use super::service::{Scope, Wms};
use super::style::{ColorScale, StyleRequest};

/// What a layer of a map shows: a grid's (time, elevation) indices, or the
/// observations TIME and ELEVATION select.
enum What {
    Grid(usize, usize),
    Obs(ObsQuery),
}

/// A layer ready to draw: a grid's 2-D field, or observation marks.
enum Drawing {
    Grid(MapField, ColorScale),
    Marks(Vec<Mark>),
}

/// Memory a drawing takes per pixel: the canvas, a scratch layer for compositing, and
/// the encoder's output.
const RENDER_BYTES_PER_PIXEL: u64 = 12;

impl Wms {
    /// Reserves the memory drawing `view` takes, waiting briefly for other drawings
    /// to finish; a 503 when none frees up in time.
    pub(super) async fn reserve_render_memory(
        &self,
        state: &AppState,
        view: &MapView,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, WmsError> {
        let bytes = (view.width as u64)
            .saturating_mul(view.height as u64)
            .saturating_mul(RENDER_BYTES_PER_PIXEL);
        let mib = bytes
            .div_ceil(1 << 20)
            .clamp(1, self.render_memory_mib as u64) as u32;
        let wait = std::time::Duration::from_millis(state.config.limits.admission_wait_ms);
        match tokio::time::timeout(wait, self.render_memory.clone().acquire_many_owned(mib)).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(WmsError::unavailable(
                "the server is busy drawing other maps; retry shortly",
            )),
        }
    }

    /// The map view of a GetMap or GetFeatureInfo request.
    pub(super) fn view(
        &self,
        state: &AppState,
        p: &Params,
        version: Version,
    ) -> Result<MapView, WmsError> {
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

    pub(super) async fn get_map(
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
        let max_layers = state.config.wms.max_layers;
        if names.len() > max_layers {
            return Err(WmsError::invalid(&format!(
                "LAYERS names {} layers; this server draws at most {max_layers} in one map",
                names.len()
            )));
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
            let what = match &layer {
                AnyLayer::Grid(l) => What::Grid(
                    l.time_index(p.non_empty("TIME"))?,
                    l.elevation_index(p.non_empty("ELEVATION"))?,
                ),
                AnyLayer::Obs(l) => What::Obs(ObsQuery {
                    time: l.time_selection(p.non_empty("TIME"))?,
                    level: l.elevation_value(p.non_empty("ELEVATION"))?,
                }),
            };
            let style = StyleRequest::from_params(
                p,
                styles.get(i).map_or("", String::as_str),
                &state.config.wms.default_palette,
            )?;
            jobs.push((ds, layer, what, style));
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
        let caches = &self.caches;
        let cached = caches.images.get(&key).await;
        if let Some(bytes) = cached {
            return Ok(image_response(format, bytes));
        }
        // The memory the drawing will take is reserved before anything is read.
        let _reserved = self.reserve_render_memory(state, &view).await?;
        let mut drawings = Vec::new();
        let mut cost = MapCost::default();
        for (ds, layer, what, style) in jobs {
            let range = match style.range {
                Some(r) => r,
                None => self.default_range(&ds, &layer).await?,
            };
            let scale = style.scale(range);
            match (layer, what) {
                (AnyLayer::Grid(layer), What::Grid(t, z)) => {
                    let field = self.map_field(state, &ds, &layer, t, z, &view).await?;
                    drawings.push(Drawing::Grid(field, scale));
                }
                (AnyLayer::Obs(layer), What::Obs(q)) => {
                    let marks = self
                        .obs_marks(state, &ds, &layer, q, &scale, &view, &mut cost)
                        .await?;
                    drawings.push(Drawing::Marks(marks));
                }
                _ => return Err(WmsError::internal("a layer changed kind while resolved")),
            }
        }
        let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, WmsError> {
            let n = view.width as usize * view.height as usize * 4;
            let mut canvas = vec![0u8; n];
            let mut scratch = Vec::new();
            for (k, drawing) in drawings.iter().enumerate() {
                match drawing {
                    Drawing::Grid(map_field, scale) => {
                        let field = Field {
                            grid: &map_field.grid,
                            values: &map_field.values,
                            row_stride: map_field.row_stride,
                            col_stride: map_field.col_stride,
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
                    Drawing::Marks(marks) => {
                        let image = obs_draw::draw(marks, view.width, view.height);
                        render::composite_over(&mut canvas, &image);
                    }
                }
            }
            if !transparent || format == ImageFormat::Jpeg {
                render::flatten_on(&mut canvas, background);
            }
            Ok(encode::encode(
                &canvas,
                view.width,
                view.height,
                format,
                background,
            )?)
        })
        .await
        .map_err(|e| WmsError::internal(format!("rendering failed: {e}")))??;
        let bytes = Bytes::from(bytes);
        if bytes.len() <= MAX_CACHED_IMAGE {
            caches.images.insert(key, bytes.clone()).await;
        }
        Ok(image_response(format, bytes))
    }
}

pub(super) fn image_response(format: ImageFormat, bytes: Bytes) -> Response {
    ([(header::CONTENT_TYPE, format.mime())], bytes).into_response()
}
