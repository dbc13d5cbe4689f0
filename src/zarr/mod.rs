//! Virtual Zarr: every dataset as a read-only Zarr store over HTTP, with consolidated
//! metadata. `/zarr/{id}/` answers Zarr v2 and v3 keys side by side, so zarr-python 3
//! opens v3 (it prefers `zarr.json` when both answer) and `zarr_format=2` or zarr-python
//! 2 open v2; `/zarr3/{id}/` is an alias kept for earlier links. `keys` says how a key's
//! form picks its format.
//! `/zarr/{id}/refs.json` is a kerchunk reference set to the original file.

mod chunk;
mod codec;
mod error;
mod keys;
mod layout;
mod metadata;
mod refs;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;

pub use error::ZarrError;
pub use layout::{ArrayLayout, Encoding, StoreLayout};

use crate::app::AppState;
use crate::cache::{VersionKey, ViewCache, Weight};
use crate::catalog::Dataset;
use crate::http::{base_url, not_modified, validators};
use crate::service::{Endpoint, IntakeSource, RequestInfo, Service, WorkClass};
use keys::{Key, Version};

/// Caches of the Zarr service, built at start-up.
struct Caches {
    layouts: ViewCache<VersionKey, Arc<StoreLayout>>,
    /// Encoded single-chunk arrays, bounded by bytes: xarray re-reads coordinates.
    chunks: ViewCache<(VersionKey, String, Vec<u64>), Bytes>,
}

impl Weight for StoreLayout {
    fn weight(&self) -> usize {
        // Keys, shapes, attributes: a few hundred bytes an array or group.
        (self.arrays.len() + self.groups.len()).saturating_mul(1024)
    }
}

/// The virtual Zarr service: v2 and v3 at `/zarr/{id}`, and the alias `/zarr3/{id}`.
pub struct Zarr {
    caches: Arc<Caches>,
}

pub fn service(state: &AppState) -> Arc<dyn Service> {
    let cache = &state.config.cache;
    Arc::new(Zarr {
        caches: Arc::new(Caches {
            layouts: ViewCache::new("zarr_layout", cache.derived_bytes, &state.metrics),
            chunks: ViewCache::new("zarr_chunk", cache.zarr_chunk_bytes, &state.metrics),
        }),
    })
}

impl Service for Zarr {
    fn name(&self) -> &'static str {
        "zarr"
    }

    fn router(&self, state: &AppState) -> Router {
        let caches = self.caches.clone();
        let handler = get(move |state, path, method, headers| {
            respond(state, path, method, headers, caches.clone())
        });
        Router::new()
            .route("/zarr/{*path}", handler.clone())
            .route("/zarr3/{*path}", handler)
            .with_state(state.clone())
    }

    fn paths(&self) -> &'static [&'static str] {
        &["/zarr/", "/zarr3/"]
    }

    fn datasets(&self, state: &AppState, req: RequestInfo<'_>) -> Vec<String> {
        let prefix = if req.path.starts_with("/zarr3/") {
            "/zarr3/"
        } else {
            "/zarr/"
        };
        crate::service::dataset_under(state, req.path, prefix)
    }

    /// Chunk keys read data; metadata keys do not.
    fn work_class(&self, req: RequestInfo<'_>) -> Option<WorkClass> {
        const METADATA: &[&str] = &[
            ".zarray",
            ".zattrs",
            ".zgroup",
            ".zmetadata",
            "zarr.json",
            "refs.json",
        ];
        let last = req.path.rsplit('/').next().unwrap_or("");
        (!METADATA.contains(&last)).then_some(WorkClass::Read)
    }

    fn endpoints(&self, base: &str, id: &str) -> Vec<Endpoint> {
        vec![
            Endpoint::new(
                "zarr",
                "Virtual Zarr store (v3 by default, v2 with zarr_format=2; consolidated)",
                format!("{base}/zarr/{id}"),
                "application/vnd+zarr",
            )
            .roles(&["data"])
            .asset_fields(serde_json::json!({"zarr:zarr_format": 3, "zarr:consolidated": true}))
            .intake(IntakeSource {
                driver: "zarr",
                name_suffix: "_zarr",
                description_suffix: " (virtual Zarr)",
                args: &[("consolidated", "true")],
            }),
            Endpoint::new(
                "references",
                "kerchunk references",
                format!("{base}/zarr/{id}/refs.json"),
                "application/json",
            )
            .roles(&["references"]),
        ]
    }
}

async fn respond(
    State(state): State<AppState>,
    Path(path): Path<String>,
    method: Method,
    headers: HeaderMap,
    caches: Arc<Caches>,
) -> Response {
    match answer(&state, &path, &method, &headers, &caches).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

const CACHE_CONTROL: &str = "public, max-age=300";

async fn answer(
    state: &AppState,
    path: &str,
    method: &Method,
    headers: &HeaderMap,
    caches: &Caches,
) -> Result<Response, ZarrError> {
    let Some((id, rest)) = state.catalog.resolve(path) else {
        return Err(ZarrError::NotFound(format!("no dataset at {path:?}")));
    };
    let Some(rest) = rest.strip_prefix('/') else {
        return Err(ZarrError::NotFound(format!("no key at {path:?}")));
    };
    let ds = state.catalog.open(&id).await?;
    if let Some(r) = not_modified(headers, &ds) {
        return Ok(r);
    }
    let vkey = VersionKey::of(&ds);
    let max = state.config.limits.max_response_bytes;
    let layout = caches
        .layouts
        .get_with(vkey.clone(), async {
            Arc::new(StoreLayout::build(&ds, max).await)
        })
        .await;
    let key = keys::parse(rest, &layout)
        .ok_or_else(|| ZarrError::NotFound(format!("no key {rest:?} in {id}")))?;
    let json =
        |v: serde_json::Value| Ok(finish(&ds, "application/json", Bytes::from(v.to_string())));
    match key {
        Key::Refs => {
            let base = format!("{}/zarr/{}", base_url(state, headers), id);
            json(refs::references(&ds, &layout, &base, max).await?)
        }
        Key::ZGroup => json(metadata::zgroup()),
        Key::ZMetadata(g) => json(metadata::zmetadata(&layout, g)),
        Key::GroupAttrs(g) => json(metadata::zattrs_group(g)),
        Key::ZArray(a) => json(metadata::zarray(a)),
        Key::ArrayAttrs(a) => json(metadata::zattrs_array(a)),
        Key::GroupJson(g) => json(metadata::group_v3(&layout, g)),
        Key::ArrayJson(a) => json(metadata::array_v3(a)),
        Key::Chunk(a, coords, version) => {
            let request = ChunkRequest {
                ds: &ds,
                array: a,
                coords,
                version,
                head: *method == Method::HEAD,
            };
            serve_chunk(state, caches, vkey, request).await
        }
    }
}

struct ChunkRequest<'a> {
    ds: &'a Arc<Dataset>,
    array: &'a ArrayLayout,
    coords: Vec<u64>,
    version: Version,
    head: bool,
}

async fn serve_chunk(
    state: &AppState,
    caches: &Caches,
    vkey: VersionKey,
    req: ChunkRequest<'_>,
) -> Result<Response, ZarrError> {
    let ChunkRequest {
        ds,
        array: a,
        coords,
        version,
        head,
    } = req;
    let name = || format!("{}/{}", a.key, refs::chunk_name(&coords));
    let stored = a.stored_chunks(ds).await?;
    let written = stored.as_ref().is_none_or(|m| m.contains_key(&coords));
    let source = chunk::source(a, stored.as_deref(), &coords, version == Version::V2)
        .ok_or_else(|| ZarrError::NotFound(format!("no chunk {} in {}", name(), ds.id)))?;
    let octets = |body: Bytes| finish(ds, "application/octet-stream", body);
    let body = match source {
        chunk::Source::Absent => {
            return Err(ZarrError::NotFound(format!(
                "chunk {} was never written",
                name()
            )));
        }
        chunk::Source::Stored { size, .. } if head => {
            let mut r = octets(Bytes::new());
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
            return Ok(r);
        }
        _ if head => return Ok(octets(Bytes::new())),
        chunk::Source::Stored { offset, size, key } => {
            let max = state.config.limits.max_response_bytes;
            if size > max {
                return Err(ZarrError::TooLarge(format!(
                    "chunk of {size} bytes exceeds the response limit of {max}"
                )));
            }
            let file = key.as_deref().and_then(|k| ds.reader.chunk_file(k));
            match key {
                // In another file than the dataset's (an aggregation's member).
                Some(_) if file.is_some() => {
                    let (location, version) = file.expect("checked");
                    state
                        .catalog
                        .storage()
                        .get_range_at(&location, &version, offset..offset + size)
                        .await
                        .map_err(|e| ZarrError::Read(e.into()))?
                }
                Some(key) => {
                    let value =
                        ds.reader.stored_chunk(&key).await?.ok_or_else(|| {
                            ZarrError::NotFound(format!("chunk {} is gone", name()))
                        })?;
                    let end = (offset + size).min(value.len() as u64);
                    value.slice(offset.min(end) as usize..end as usize)
                }
                None => state
                    .catalog
                    .storage()
                    .get_range_at(&ds.location, &ds.version, offset..offset + size)
                    .await
                    .map_err(|e| ZarrError::Read(e.into()))?,
            }
        }
        // Single-chunk arrays (coordinates) are cached: xarray re-reads them.
        chunk::Source::Encode if a.grid().iter().product::<u64>() == 1 => {
            let ds2 = ds.clone();
            let key = (vkey, a.key.clone(), coords.clone());
            caches
                .chunks
                .try_get_with(key, async move {
                    chunk::encode(&ds2, a, &coords, written).await
                })
                .await
                .map_err(ZarrError::shared)?
        }
        chunk::Source::Encode => chunk::encode(ds, a, &coords, written).await?,
    };
    Ok(octets(body))
}

/// A 200 response with the dataset's validators and caching headers.
fn finish(ds: &Dataset, content_type: &'static str, body: Bytes) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    for (k, v) in validators(ds) {
        h.insert(k, v);
    }
    r
}
