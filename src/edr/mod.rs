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
mod error;
pub mod geometry;
mod html;
mod metadata;
mod netcdf;
mod openapi;
pub mod params;
mod select;
mod tabular;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::app::AppState;
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
}

impl axum::extract::FromRef<EdrState> for AppState {
    fn from_ref(s: &EdrState) -> AppState {
        s.app.clone()
    }
}

/// OGC API EDR: every gridded dataset as a collection.
pub struct Edr {
    collections: Collections,
}

pub fn service(state: &AppState) -> Arc<dyn Service> {
    Arc::new(Edr {
        collections: ViewCache::new(
            "edr_collection",
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

async fn api(State(state): State<AppState>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    let base = base_url(&state, &headers);
    let p = Params::parse(q.as_deref());
    let example = state.catalog.entries().keys().next().cloned();
    let doc = openapi::document(&base, example.as_deref());
    match metadata_format(&p, &headers) {
        Ok(Format::Html) => document(&p, &headers, "API definition", doc),
        Ok(_) => json_response(&doc, metadata::OPENAPI_TYPE),
        Err(e) => e.into_response(),
    }
}

/// Every dataset with at least one gridded parameter.
async fn all_collections(edr: &EdrState) -> Vec<Arc<Collection>> {
    let state = &edr.app;
    let mut out = Vec::new();
    for id in state.catalog.entries().keys() {
        match state.catalog.open(id).await {
            Ok(ds) => match collection::load(&edr.collections, &ds).await {
                Ok(c) if !c.params.is_empty() => out.push(c),
                Ok(_) => {}
                Err(e) => tracing::warn!("edr: {id}: {e}"),
            },
            Err(e) => tracing::warn!("edr: {id}: {e}"),
        }
    }
    out
}

async fn collections(
    State(edr): State<EdrState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&edr.app, &headers);
    let p = Params::parse(q.as_deref());
    let cols = all_collections(&edr).await;
    document(
        &p,
        &headers,
        "Collections",
        metadata::collections(&cols, &base),
    )
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
            params.only(&[])?;
            let p = location(state, &col, loc)?;
            let common = common(&col, &params)?;
            let covs = select::position(&col, &common, &[p])?;
            respond(state, &col, covs, &params, headers).await
        }
        [q] if metadata::QUERIES.contains(q) => {
            let common = common(&col, &params)?;
            let covs = off_the_workers(&col, q, &params, common, &state.config.limits).await?;
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
    })
}

fn coords(params: &Params) -> EdrResult<Geometry> {
    let c = params
        .get("coords")
        .ok_or_else(|| EdrError::bad("coords is required (a WKT geometry)"))?;
    geometry::parse(c)
}

/// Degrees of latitude and longitude spanned by `km` at latitude `lat`.
fn degrees(km: f64, lat: f64) -> (f64, f64) {
    let per_deg = geometry::EARTH_RADIUS_KM.to_radians();
    let dlat = km / per_deg;
    let reach = (lat.abs() + dlat).min(90.0);
    let dlon = if reach >= 89.999 {
        180.0
    } else {
        (km / (per_deg * reach.to_radians().cos())).min(180.0)
    };
    (dlat, dlon)
}

/// The box around points (longitudes unwrapped next to the first point) grown by km.
fn grown_bbox(pts: &[Pos], km: f64) -> (f64, f64, f64, f64) {
    let x0 = pts[0].x;
    let mut b = (f64::INFINITY, 90.0f64, f64::NEG_INFINITY, -90.0f64);
    let mut prev = x0;
    for p in pts {
        let x = geometry::lon_near(p.x, prev);
        prev = x;
        let (dlat, dlon) = degrees(km, p.y);
        b.0 = b.0.min(x - dlon);
        b.2 = b.2.max(x + dlon);
        b.1 = b.1.min((p.y - dlat).max(-90.0));
        b.3 = b.3.max((p.y + dlat).min(90.0));
    }
    if b.2 - b.0 >= 360.0 {
        b.2 = b.0 + 360.0;
    }
    b
}

/// Runs a query's geometry on the blocking pool (never on the async workers); when
/// the client goes away (this future is dropped), the work stops at its next cell.
async fn off_the_workers(
    col: &Arc<Collection>,
    q: &str,
    params: &Params,
    common: Common,
    limits: &crate::config::LimitsConfig,
) -> EdrResult<Vec<Coverage>> {
    struct CancelOnDrop(Arc<AtomicBool>);
    impl Drop for CancelOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let cancelled = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancelled.clone());
    let max_values = limits.max_answer_values;
    let (col, q, params, limits) = (col.clone(), q.to_string(), params.clone(), limits.clone());
    let covs = tokio::task::spawn_blocking(move || {
        let budget = Budget {
            limits: &limits,
            cancelled: &cancelled,
        };
        run_query(&col, &q, &params, &common, &budget)
    })
    .await
    .map_err(|e| EdrError::Internal(format!("query task failed: {e}")))??;
    let values = covs
        .iter()
        .map(|c| {
            c.shape()
                .iter()
                .fold(c.params.len() as u64, |n, &k| n.saturating_mul(k as u64))
        })
        .fold(0u64, u64::saturating_add);
    if values > max_values {
        return Err(EdrError::TooLarge {
            bytes: values.saturating_mul(8),
            limit: max_values.saturating_mul(8),
        });
    }
    Ok(covs)
}

/// What a query may spend, and whether its client is still there.
struct Budget<'a> {
    limits: &'a crate::config::LimitsConfig,
    cancelled: &'a AtomicBool,
}

impl Budget<'_> {
    /// Refuses a geometry query whose cells × tests would exceed the limit, before it
    /// runs.
    fn check(&self, what: &str, cells: u64, tests_per_cell: u64) -> EdrResult<()> {
        let work = cells.saturating_mul(tests_per_cell.max(1));
        let max = self.limits.max_geometry_work;
        if work > max {
            return Err(EdrError::bad(format!(
                "{what}: the query would test {cells} cells against {tests_per_cell} points or \
                 vertices each ({work} tests), more than this server's limit of {max}; \
                 query a smaller area or a simpler geometry"
            )));
        }
        Ok(())
    }

    /// `inside`, answering "no" at once when the client has gone away.
    fn unless_cancelled<'f>(
        &'f self,
        inside: &'f dyn Fn(f64, f64) -> bool,
    ) -> impl Fn(f64, f64) -> bool + 'f {
        move |x, y| !self.cancelled.load(Ordering::Relaxed) && inside(x, y)
    }
}

fn run_query(
    col: &Collection,
    q: &str,
    params: &Params,
    common: &Common,
    budget: &Budget<'_>,
) -> EdrResult<Vec<Coverage>> {
    let res = (
        params.count("resolution-x")?,
        params.count("resolution-y")?,
        params.count("resolution-z")?,
    );
    match q {
        "position" => {
            params.only(&["coords"])?;
            match coords(params)? {
                Geometry::Points(pts) => select::position(col, common, &pts),
                _ => Err(EdrError::bad(
                    "position: coords must be a POINT or MULTIPOINT",
                )),
            }
        }
        "area" => {
            params.only(&["coords", "resolution-x", "resolution-y"])?;
            let Geometry::Polygons(polys) = coords(params)? else {
                return Err(EdrError::bad(
                    "area: coords must be a POLYGON or MULTIPOLYGON",
                ));
            };
            let (w, s, e, n) = geometry::bounds(polys.iter().flatten().flatten())
                .ok_or_else(|| EdrError::bad("area: empty polygon"))?;
            let vertices = polys.iter().flatten().map(|ring| ring.len() as u64).sum();
            let cells = select::candidate_cells(col, common, (w, s, e, n), (res.0, res.1));
            budget.check("area", cells, vertices)?;
            let inside = |x: f64, y: f64| polys.iter().any(|p| geometry::polygon_contains(p, x, y));
            let inside = budget.unless_cancelled(&inside);
            select::area(col, common, (w, s, e, n), (res.0, res.1, None), &inside)
        }
        "cube" => {
            params.only(&["bbox", "resolution-x", "resolution-y", "resolution-z"])?;
            let bbox = params
                .get("bbox")
                .ok_or_else(|| EdrError::bad("cube: bbox is required"))?;
            let (w, s, mut e, n, zr) = params::parse_bbox(bbox)?;
            if e < w {
                e += 360.0; // crosses the antimeridian
            }
            let mut c = common.clone();
            if let Some((z0, z1)) = zr
                && c.z.is_none()
            {
                c.z = Some(params::ZSel::Interval(z0.min(z1), z0.max(z1)));
            }
            select::area(col, &c, (w, s, e, n), res, &|_, _| true)
        }
        "radius" => {
            params.only(&["coords", "within", "within-units"])?;
            let Geometry::Points(pts) = coords(params)? else {
                return Err(EdrError::bad(
                    "radius: coords must be a POINT or MULTIPOINT",
                ));
            };
            let within = params
                .number("within")?
                .ok_or_else(|| EdrError::bad("radius: within is required"))?;
            let km = params::distance_km(within, params.get("within-units"), "within")?;
            let bbox = grown_bbox(&pts, km);
            let cells = select::candidate_cells(col, common, bbox, (None, None));
            budget.check("radius", cells, pts.len() as u64)?;
            let inside = |x: f64, y: f64| {
                pts.iter()
                    .any(|p| geometry::distance_km(p.x, p.y, x, y) <= km)
            };
            let inside = budget.unless_cancelled(&inside);
            select::area(col, common, bbox, (None, None, None), &inside)
        }
        "trajectory" => {
            params.only(&["coords"])?;
            match coords(params)? {
                Geometry::Line(line) => select::trajectory(col, common, &line),
                _ => Err(EdrError::bad("trajectory: coords must be a LINESTRING")),
            }
        }
        "corridor" => {
            params.only(&[
                "coords",
                "corridor-width",
                "width-units",
                "corridor-height",
                "height-units",
                "resolution-x",
                "resolution-y",
            ])?;
            let Geometry::Line(line) = coords(params)? else {
                return Err(EdrError::bad("corridor: coords must be a LINESTRING"));
            };
            let width = params
                .number("corridor-width")?
                .ok_or_else(|| EdrError::bad("corridor: corridor-width is required"))?;
            let half =
                params::distance_km(width, params.get("width-units"), "corridor-width")? / 2.0;
            let mut c = common.clone();
            if let Some(h) = params.number("corridor-height")? {
                if h < 0.0 {
                    return Err(EdrError::bad("corridor-height must not be negative"));
                }
                let zs: Vec<f64> = line.iter().filter_map(|p| p.z).collect();
                if let (Some(lo), Some(hi)) = (
                    zs.iter().copied().reduce(f64::min),
                    zs.iter().copied().reduce(f64::max),
                ) && c.z.is_none()
                {
                    c.z = Some(params::ZSel::Interval(lo - h / 2.0, hi + h / 2.0));
                }
            }
            let bbox = grown_bbox(&line, half);
            let cells = select::candidate_cells(col, &c, bbox, (res.0, res.1));
            budget.check("corridor", cells, line.len() as u64)?;
            let inside = |x: f64, y: f64| geometry::distance_to_line_km(&line, x, y) <= half;
            let inside = budget.unless_cancelled(&inside);
            select::area(col, &c, bbox, (res.0, res.1, None), &inside)
        }
        _ => Err(EdrError::NotFound(format!("no query {q:?}"))),
    }
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
