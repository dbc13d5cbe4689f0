//! OGC API - Environmental Data Retrieval: one collection per dataset, position / area /
//! cube / radius / trajectory / corridor queries, items and named locations, answered
//! in CoverageJSON, GeoJSON, CSV or HTML.
//!
//! Collection ids are dataset ids and may contain `/`: everything after
//! `/edr/collections/` is one catch-all path, split into the longest known id and the
//! rest (`a/b.nc/position` → `a/b.nc`, `/position`) by `Catalog::resolve`; ids may also
//! be sent percent-encoded (`a%2Fb.nc`), which axum decodes first.

mod body;
mod collection;
mod coverage;
mod covjson;
mod custom;
mod custom_axis;
mod error;
pub mod geometry;
mod html;
mod metadata;
mod netcdf;
mod observations;
mod openapi;
pub mod params;
mod query;
mod select;
mod tabular;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::{Principal, Viewer};
use crate::cache::ViewCache;
use crate::http::{base_url, wants_json};
use crate::service::{Endpoint, RequestInfo, Service, WorkClass};
use collection::{Collection, Collections};
use coverage::Coverage;
use error::{EdrError, EdrResult};
use geometry::{Geometry, Pos};
use params::{Format, Params};
use select::Common;

pub use error::EdrError as Error;

/// The EDR routes, merged into the server's router.
/// The EDR service's state: the app's, and its cache of collections.
#[derive(Clone)]
struct EdrState {
    app: AppState,
    collections: Collections,
    observations: observations::ObsCollections,
}

impl axum::extract::FromRef<EdrState> for AppState {
    fn from_ref(s: &EdrState) -> AppState {
        s.app.clone()
    }
}

/// OGC API EDR: every gridded dataset as a collection.
pub struct Edr {
    collections: Collections,
    observations: observations::ObsCollections,
}

pub fn service(state: &AppState) -> Arc<dyn Service> {
    Arc::new(Edr {
        collections: ViewCache::new(
            "edr_collection",
            state.config.cache.derived_bytes,
            &state.metrics,
        ),
        observations: ViewCache::new(
            "edr_features",
            state.config.cache.derived_bytes,
            &state.metrics,
        ),
    })
}

impl Service for Edr {
    fn name(&self) -> &'static str {
        "edr"
    }

    fn router(&self, state: &AppState) -> Router {
        Router::new()
            .route("/edr", get(landing))
            .route("/edr/", get(landing))
            .route("/edr/conformance", get(conformance))
            .route("/edr/api", get(api))
            .route("/edr/collections", get(collections))
            .route("/edr/collections/", get(collections))
            .route("/edr/collections/{*rest}", get(dispatch))
            .with_state(EdrState {
                app: state.clone(),
                collections: self.collections.clone(),
                observations: self.observations.clone(),
            })
    }

    fn endpoints(&self, base: &str, id: &str) -> Vec<Endpoint> {
        vec![
            Endpoint::new(
                "edr",
                "OGC API EDR collection",
                format!("{base}/edr/collections/{id}"),
                "application/json",
            )
            .roles(&["data"]),
        ]
    }

    fn paths(&self) -> &'static [&'static str] {
        &["/edr"]
    }

    fn datasets(&self, state: &AppState, req: RequestInfo<'_>) -> Vec<String> {
        crate::service::dataset_under(state, req.path, "/edr/collections/")
    }

    fn error_response(&self, _req: RequestInfo<'_>, status: StatusCode, message: &str) -> Response {
        EdrError::Refused(status, message.to_string()).into_response()
    }

    /// Data queries (everything below a collection but its metadata).
    fn work_class(&self, req: RequestInfo<'_>) -> Option<WorkClass> {
        let rest = req.path.strip_prefix("/edr/collections/")?;
        let last = rest.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        (metadata::QUERIES.contains(&last) || rest.contains("/locations/"))
            .then_some(WorkClass::Query)
    }

    fn service_links(&self, base: &str) -> Vec<Endpoint> {
        vec![Endpoint::new(
            "service-desc",
            "OGC API EDR",
            format!("{base}/edr"),
            "application/json",
        )]
    }
}

fn json_response(doc: &Value, media: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
        doc.to_string(),
    )
        .into_response()
}

/// HTML for `f=html`, or for an `Accept` that names HTML before JSON (browsers); JSON
/// otherwise, including `*/*` (OWSLib, requests, curl).
fn metadata_format(params: &Params, headers: &HeaderMap) -> EdrResult<Format> {
    if params.get("f").is_some() {
        return params.format(headers, Format::Json);
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(if accept.contains("html") && !wants_json(None, headers) {
        Format::Html
    } else {
        Format::Json
    })
}

/// A metadata document as JSON or HTML.
fn document(params: &Params, headers: &HeaderMap, title: &str, doc: Value) -> Response {
    match metadata_format(params, headers) {
        Ok(Format::Html) => (
            [(header::CONTENT_TYPE, Format::Html.media_type())],
            html::page(title, &doc),
        )
            .into_response(),
        Ok(_) => json_response(&doc, "application/json"),
        Err(e) => e.into_response(),
    }
}

async fn landing(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&state, &headers);
    let p = Params::parse(q.as_deref());
    document(&p, &headers, "OGC API - EDR", metadata::landing(&base))
}

async fn conformance(RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    let p = Params::parse(q.as_deref());
    document(&p, &headers, "Conformance", metadata::conformance())
}

async fn api(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&state, &headers);
    let p = Params::parse(q.as_deref());
    let example = state
        .catalog
        .entries()
        .keys()
        .find(|id| state.visible(&viewer, id))
        .cloned();
    let doc = openapi::document(&base, example.as_deref());
    match metadata_format(&p, &headers) {
        Ok(Format::Html) => document(&p, &headers, "API definition", doc),
        Ok(_) => json_response(&doc, metadata::OPENAPI_TYPE),
        Err(e) => e.into_response(),
    }
}

/// Every dataset with at least one gridded parameter, and every observation (DSG)
/// dataset whose features can be read.
async fn all_collections(
    edr: &EdrState,
    viewer: &Principal,
) -> (Vec<Arc<Collection>>, Vec<Arc<observations::ObsCollection>>) {
    let state = &edr.app;
    let mut out = Vec::new();
    let mut obs = Vec::new();
    for id in state.catalog.entries().keys() {
        if !state.visible(viewer, id) {
            continue;
        }
        match state.catalog.open(id).await {
            Ok(ds) if observations::is_dsg(&ds.meta) => {
                match observations::load(&edr.observations, &state.catalog, &ds).await {
                    Ok(c) => obs.push(c),
                    Err(e) => tracing::warn!("edr: {id}: {e}"),
                }
            }
            Ok(ds) => match collection::load(&edr.collections, &ds).await {
                Ok(c) if !c.params.is_empty() => out.push(c),
                Ok(_) => {}
                Err(e) => tracing::warn!("edr: {id}: {e}"),
            },
            Err(e) => tracing::warn!("edr: {id}: {e}"),
        }
    }
    (out, obs)
}

async fn collections(
    State(edr): State<EdrState>,
    Viewer(viewer): Viewer,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&edr.app, &headers);
    let p = Params::parse(q.as_deref());
    let (cols, obs) = all_collections(&edr, &viewer).await;
    let mut doc = metadata::collections(&cols, &base);
    if let Some(list) = doc["collections"].as_array_mut() {
        list.extend(obs.iter().map(|c| observations::collection_doc(c, &base)));
    }
    document(&p, &headers, "Collections", doc)
}

async fn dispatch(
    State(edr): State<EdrState>,
    Path(rest): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    match handle(&edr, &rest, q.as_deref(), &headers).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn open(edr: &EdrState, id: &str) -> EdrResult<Arc<Collection>> {
    let ds = edr.app.catalog.open(id).await?;
    let col = collection::load(&edr.collections, &ds).await?;
    if col.params.is_empty() {
        return Err(EdrError::NotFound(format!(
            "dataset {id:?} has no gridded variables to offer as an EDR collection"
        )));
    }
    Ok(col)
}

async fn handle(
    edr: &EdrState,
    rest: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> EdrResult<Response> {
    let state = &edr.app;
    let rest = rest.trim_start_matches('/');
    let (id, tail) = state
        .catalog
        .resolve(rest)
        .ok_or_else(|| EdrError::NotFound(format!("no collection {rest:?}")))?;
    let tail = tail.trim_end_matches('/');
    let params = Params::parse(query);
    let base = base_url(state, headers);
    let ds = state.catalog.open(&id).await?;
    if observations::is_dsg(&ds.meta) {
        let col = observations::load(&edr.observations, &state.catalog, &ds).await?;
        let limits = &state.config.limits;
        return observations::handle(col, tail, params, headers, &base, limits).await;
    }
    let col = open(edr, &id).await?;
    let segs: Vec<&str> = tail.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        [""] => {
            params.only(&[])?;
            let doc = metadata::collection(&col, &base);
            Ok(document(&params, headers, &col.title, doc))
        }
        ["items"] | ["locations"] => {
            params.only(&["bbox", "limit"])?;
            let doc = locations_doc(state, &col, &base);
            match params.format(headers, Format::GeoJson)? {
                Format::Html => Ok(document(&params, headers, &col.title, doc)),
                _ => Ok(json_response(&doc, "application/geo+json")),
            }
        }
        ["locations", loc] => {
            params.without(&custom::ids(&col)).only(&[])?;
            let p = location(state, &col, loc)?;
            let common = common(&col, &params)?;
            let covs = select::position(&col, &common, &[p])?;
            let covs = custom::expand(&col, &common.custom, covs)?;
            respond(state, &col, covs, &params, headers).await
        }
        [q] if metadata::QUERIES.contains(q) => {
            let common = common(&col, &params)?;
            let params = params.without(&custom::ids(&col));
            let covs =
                query::off_the_workers(&col, q, &params, common, &state.config.limits).await?;
            respond(state, &col, covs, &params, headers).await
        }
        _ => Err(EdrError::NotFound(format!(
            "no resource {tail:?} in collection {id:?}; queries: {}",
            metadata::QUERIES.join(", ")
        ))),
    }
}

fn common(col: &Collection, params: &Params) -> EdrResult<Common> {
    let names = params.parameter_names();
    let selected = col.select_params(names.as_deref())?;
    Ok(Common {
        datetime: params
            .get("datetime")
            .map(params::parse_datetime)
            .transpose()?,
        z: params.get("z").map(params::parse_z).transpose()?,
        params: selected
            .iter()
            .filter_map(|p| col.params.iter().position(|q| q.name == p.name))
            .collect(),
        custom: custom::selections(col, |id| {
            params.get(&id.to_ascii_lowercase()).map(str::to_string)
        })?,
    })
}

/// Checks the size, then streams the answer in the negotiated format.
async fn respond(
    state: &AppState,
    col: &Arc<Collection>,
    covs: Vec<Coverage>,
    params: &Params,
    headers: &HeaderMap,
) -> EdrResult<Response> {
    let format = params.format(headers, Format::CovJson)?;
    let limits = &state.config.limits;
    let block = limits.read_block_bytes.max(1);
    let bytes: u64 = covs
        .iter()
        .map(|c| {
            c.params
                .iter()
                .map(|&p| c.read_bytes(col.params[p].elem_size(), block))
                .sum::<u64>()
        })
        .sum();
    if bytes > limits.max_response_bytes {
        return Err(EdrError::TooLarge {
            bytes,
            limit: limits.max_response_bytes,
        });
    }
    let col = col.clone();
    let (media, body) = match format {
        Format::CovJson | Format::Json => (
            if format == Format::Json {
                "application/json"
            } else {
                Format::CovJson.media_type()
            },
            body::stream(move |out| covjson::write(col, covs, block, out)).await?,
        ),
        Format::GeoJson => (
            Format::GeoJson.media_type(),
            body::stream(move |out| tabular::write(tabular::Kind::GeoJson, col, covs, block, out))
                .await?,
        ),
        Format::Csv => (
            Format::Csv.media_type(),
            body::stream(move |out| tabular::write(tabular::Kind::Csv, col, covs, block, out))
                .await?,
        ),
        Format::Html => (
            Format::Html.media_type(),
            body::stream(move |out| tabular::write(tabular::Kind::Html, col, covs, block, out))
                .await?,
        ),
        Format::NetCdf => return netcdf::respond(col, covs, block).await,
    };
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, media)], body).into_response())
}

/// The named locations of a collection.
fn locations_for<'a>(
    state: &'a AppState,
    col: &'a Collection,
) -> impl Iterator<Item = &'a crate::config::EdrLocationConfig> + 'a {
    state
        .config
        .edr
        .locations
        .iter()
        .filter(move |l| l.collections.is_empty() || l.collections.iter().any(|c| c == &col.id))
}

fn location_point(l: &crate::config::EdrLocationConfig) -> EdrResult<Pos> {
    match geometry::parse(&l.coords)? {
        Geometry::Points(p) if p.len() == 1 => Ok(p[0]),
        _ => Err(EdrError::Internal(format!(
            "location {:?}: coords must be a POINT",
            l.id
        ))),
    }
}

fn location(state: &AppState, col: &Collection, loc: &str) -> EdrResult<Pos> {
    let l = locations_for(state, col)
        .find(|l| l.id == loc)
        .ok_or_else(|| {
            EdrError::NotFound(format!("no location {loc:?} in collection {:?}", col.id))
        })?;
    location_point(l)
}

fn locations_doc(state: &AppState, col: &Collection, base: &str) -> Value {
    let url = metadata::collection_url(base, &col.id);
    let features: Vec<Value> = locations_for(state, col)
        .filter_map(|l| {
            let p = location_point(l).ok()?;
            Some(json!({
                "type": "Feature",
                "id": l.id,
                "geometry": {"type": "Point", "coordinates": [p.x, p.y]},
                "properties": {
                    "name": l.name.clone().unwrap_or_else(|| l.id.clone()),
                    "edrqueryendpoint": format!("{url}/locations/{}", l.id),
                },
            }))
        })
        .collect();
    json!({
        "type": "FeatureCollection",
        "features": features,
        "links": [{"href": format!("{url}/locations"), "rel": "self", "type": "application/geo+json"}],
    })
}
