//! STAC API: the dataset files as items (footprint and time span from their
//! coordinates), aggregations as collections, item search with GET and POST.

mod error;
mod geometry;
mod index;
mod search;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::{Principal, Viewer};
use crate::cache::ViewCache;
use crate::endpoint::EndpointDirectory;
use crate::http::base_url;
use crate::service::{Endpoint, Service};
use crate::subset::BBox;

pub use error::StacError;
pub use index::{DEFAULT_COLLECTION, IndexedCollection, IndexedItem, ItemIndex};
pub use search::{Search, SearchRequest};

const STAC_VERSION: &str = "1.0.0";

const CONFORMANCE: &[&str] = &[
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
];

/// The STAC service's state: the app's, and the item index per catalog generation.
#[derive(Clone)]
struct StacState {
    app: AppState,
    indexes: ViewCache<u64, Arc<ItemIndex>>,
}

impl StacState {
    /// The index of the catalog as it is now (rebuilt when datasets change).
    async fn index(&self) -> Arc<ItemIndex> {
        let catalog = &self.app.catalog;
        self.indexes
            .get_with(catalog.generation(), async {
                Arc::new(ItemIndex::build(catalog).await)
            })
            .await
    }

    /// The index as `viewer` may see it: the shared index is built once for everyone;
    /// the items and collections of datasets they are not admitted to are removed per
    /// request, never cached.
    async fn visible_index(&self, viewer: &Principal) -> Arc<ItemIndex> {
        let index = self.index().await;
        let state = &self.app;
        let hidden = |id: &str| !state.visible(viewer, id);
        let hides_any = index.items.iter().any(|i| hidden(&i.id))
            || index.collections.iter().any(|c| hidden(&c.id));
        if !hides_any {
            return index;
        }
        let items: Vec<_> = index
            .items
            .iter()
            .filter(|i| !hidden(&i.id) && !hidden(&i.collection))
            .cloned()
            .collect();
        // A collection keeps the extent of the items left in it (the shared one would
        // tell where and when the hidden data is).
        let collections = index
            .collections
            .iter()
            .filter_map(|c| {
                let had_items = index.items.iter().any(|i| i.collection == c.id);
                let left: Vec<_> = items.iter().filter(|i| i.collection == c.id).collect();
                if hidden(&c.id) || (had_items && left.is_empty()) {
                    return None;
                }
                let mut c = c.clone();
                if had_items {
                    c.set_extent(&left);
                }
                Some(c)
            })
            .collect();
        Arc::new(ItemIndex { collections, items })
    }
}

/// The STAC API over every dataset with a time coordinate.
pub struct Stac {
    indexes: ViewCache<u64, Arc<ItemIndex>>,
}

pub fn service(state: &AppState) -> Arc<dyn Service> {
    Arc::new(Stac {
        indexes: ViewCache::new(
            "stac_index",
            state.config.cache.derived_bytes,
            &state.metrics,
        ),
    })
}

impl Service for Stac {
    fn name(&self) -> &'static str {
        "stac"
    }

    fn paths(&self) -> &'static [&'static str] {
        &["/stac"]
    }

    fn router(&self, state: &AppState) -> Router {
        Router::new()
            .route("/stac", get(landing))
            .route("/stac/", get(landing))
            .route("/stac/conformance", get(conformance))
            .route("/stac/collections", get(collections))
            .route("/stac/collections/{*rest}", get(collection_paths))
            .route("/stac/search", get(search_get).post(search_post))
            .with_state(StacState {
                app: state.clone(),
                indexes: self.indexes.clone(),
            })
    }

    fn service_links(&self, base: &str) -> Vec<Endpoint> {
        vec![Endpoint::new(
            "stac",
            "STAC API",
            format!("{base}/stac"),
            "application/json",
        )]
    }
}

fn geo(body: Value) -> Response {
    ([("content-type", "application/geo+json")], Json(body)).into_response()
}

async fn landing(
    State(stac): State<StacState>,
    Viewer(viewer): Viewer,
    headers: HeaderMap,
) -> Json<Value> {
    let state = &stac.app;
    let base = base_url(state, &headers);
    let index = stac.visible_index(&viewer).await;
    let mut links = vec![
        json!({"rel": "self", "href": format!("{base}/stac"), "type": "application/json"}),
        json!({"rel": "root", "href": format!("{base}/stac"), "type": "application/json"}),
        json!({"rel": "conformance", "href": format!("{base}/stac/conformance"), "type": "application/json"}),
        json!({"rel": "data", "href": format!("{base}/stac/collections"), "type": "application/json"}),
        json!({"rel": "search", "href": format!("{base}/stac/search"), "type": "application/geo+json", "method": "GET"}),
        json!({"rel": "search", "href": format!("{base}/stac/search"), "type": "application/geo+json", "method": "POST"}),
    ];
    for c in &index.collections {
        links.push(json!({"rel": "child", "href": format!("{base}/stac/collections/{}", c.id), "type": "application/json", "title": c.title}));
    }
    Json(json!({
        "type": "Catalog",
        "stac_version": STAC_VERSION,
        "id": "datagate",
        "title": "datagate",
        "description": "Dataset files served by datagate, searchable by area and time",
        "conformsTo": CONFORMANCE,
        "links": links,
    }))
}

async fn conformance() -> Json<Value> {
    Json(json!({ "conformsTo": CONFORMANCE }))
}

fn iso(t: &Option<crate::model::cf::CfDateTime>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_iso()))
}

fn collection_json(base: &str, c: &IndexedCollection) -> Value {
    json!({
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "id": c.id,
        "title": c.title,
        "description": c.title,
        "license": "other",
        "extent": {
            "spatial": {"bbox": [c.bbox.unwrap_or_else(BBox::world).to_array()]},
            "temporal": {"interval": [[iso(&c.start), iso(&c.end)]]},
        },
        "links": [
            {"rel": "self", "href": format!("{base}/stac/collections/{}", c.id), "type": "application/json"},
            {"rel": "root", "href": format!("{base}/stac"), "type": "application/json"},
            {"rel": "parent", "href": format!("{base}/stac"), "type": "application/json"},
            {"rel": "items", "href": format!("{base}/stac/collections/{}/items", c.id), "type": "application/geo+json"},
        ],
    })
}

/// An item's assets: the endpoints services offer with roles, keyed by relation.
fn assets(services: &dyn EndpointDirectory, base: &str, id: &str) -> Value {
    let mut out = serde_json::Map::new();
    for e in services.endpoints(base, id) {
        if e.roles.is_empty() {
            continue;
        }
        let mut asset =
            json!({"href": e.href, "type": e.media_type, "title": e.title, "roles": e.roles});
        if let (Value::Object(extra), Some(a)) = (e.asset_fields, asset.as_object_mut()) {
            a.extend(extra);
        }
        out.insert(e.rel.to_string(), asset);
    }
    Value::Object(out)
}

/// The item of a dataset file, with assets linking every protocol's endpoint.
fn item_json(base: &str, services: &dyn EndpointDirectory, i: &IndexedItem) -> Value {
    let (mut geometry, bbox) = match i.bbox.map(|b| b.to_array()) {
        Some([w, s, e, n]) => (
            json!({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}),
            json!([w, s, e, n]),
        ),
        None => (Value::Null, Value::Null),
    };
    // Observation files: the features' places or tracks; swaths: their outline. Both
    // lie within the bbox.
    if let Some(g) = &i.geometry
        && !bbox.is_null()
    {
        geometry = g.clone();
    }
    let single = i.start.is_some() && i.start == i.end;
    let mut properties = json!({
        "title": i.title,
        "datetime": if single { iso(&i.start) } else { Value::Null },
    });
    if !single {
        properties["start_datetime"] = iso(&i.start);
        properties["end_datetime"] = iso(&i.end);
    }
    let id = &i.id;
    let mut item = json!({
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": [],
        "id": id,
        "collection": i.collection,
        "geometry": geometry,
        "properties": properties,
        "links": [
            {"rel": "self", "href": format!("{base}/stac/collections/{}/items/{id}", i.collection), "type": "application/geo+json"},
            {"rel": "root", "href": format!("{base}/stac"), "type": "application/json"},
            {"rel": "parent", "href": format!("{base}/stac/collections/{}", i.collection), "type": "application/json"},
            {"rel": "collection", "href": format!("{base}/stac/collections/{}", i.collection), "type": "application/json"},
        ],
        "assets": assets(services, base, i.dataset.as_deref().unwrap_or(id)),
    });
    if !bbox.is_null() {
        item["bbox"] = bbox;
    }
    item
}

async fn collections(
    State(stac): State<StacState>,
    Viewer(viewer): Viewer,
    headers: HeaderMap,
) -> Json<Value> {
    let state = &stac.app;
    let base = base_url(state, &headers);
    let index = stac.visible_index(&viewer).await;
    let list: Vec<Value> = index
        .collections
        .iter()
        .map(|c| collection_json(&base, c))
        .collect();
    Json(json!({
        "collections": list,
        "links": [
            {"rel": "self", "href": format!("{base}/stac/collections"), "type": "application/json"},
            {"rel": "root", "href": format!("{base}/stac"), "type": "application/json"},
        ],
    }))
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let q = query.unwrap_or("");
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

/// `{cid}`, `{cid}/items`, `{cid}/items/{item id}` (ids may contain `/`).
async fn collection_paths(
    State(stac): State<StacState>,
    Viewer(viewer): Viewer,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, StacError> {
    let state = &stac.app;
    let base = base_url(state, &headers);
    let index = stac.visible_index(&viewer).await;
    let coll = index
        .collections
        .iter()
        .filter(|c| rest == c.id || rest.starts_with(&format!("{}/items", c.id)))
        .max_by_key(|c| c.id.len())
        .ok_or_else(|| StacError::NotFound(format!("no collection at {rest:?}")))?;
    let tail = &rest[coll.id.len()..];
    if tail.is_empty() {
        return Ok(Json(collection_json(&base, coll)).into_response());
    }
    if tail == "/items" {
        let pairs = query_pairs(query.as_deref());
        let search = Search::new(SearchRequest::from_query(&pairs)?)?.in_collection(&coll.id);
        let self_href = format!("{base}/stac/collections/{}/items", coll.id);
        return Ok(geo(run_search(
            state.services.as_ref(),
            &index,
            &search,
            &self_href,
            &pairs,
        )));
    }
    let item_id = tail.strip_prefix("/items/").unwrap_or("");
    let item = index
        .items
        .iter()
        .find(|i| i.collection == coll.id && i.id == item_id)
        .ok_or_else(|| StacError::NotFound(format!("no item {item_id:?} in {}", coll.id)))?;
    Ok(geo(item_json(&base, state.services.as_ref(), item)))
}

/// Runs a search; `next` links repeat the query with a paging token.
fn run_search(
    services: &dyn EndpointDirectory,
    index: &Arc<ItemIndex>,
    search: &Search,
    self_href: &str,
    pairs: &[(String, String)],
) -> Value {
    let base = self_href.split("/stac").next().unwrap_or("").to_string();
    let matched: Vec<&IndexedItem> = index.items.iter().filter(|i| search.matches(i)).collect();
    let page: Vec<Value> = matched
        .iter()
        .skip(search.offset)
        .take(search.limit)
        .map(|i| item_json(&base, services, i))
        .collect();
    let mut links =
        vec![json!({"rel": "root", "href": format!("{base}/stac"), "type": "application/json"})];
    let next_offset = search.offset + page.len();
    if next_offset < matched.len() {
        let mut q: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k != "token")
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    k,
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect();
        q.push(format!("token=next:{next_offset}"));
        links.push(json!({"rel": "next", "href": format!("{self_href}?{}", q.join("&")), "type": "application/geo+json", "method": "GET"}));
    }
    json!({
        "type": "FeatureCollection",
        "features": page,
        "numberMatched": matched.len(),
        "numberReturned": page.len(),
        "links": links,
    })
}

async fn search_get(
    State(stac): State<StacState>,
    Viewer(viewer): Viewer,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, StacError> {
    let state = &stac.app;
    let base = base_url(state, &headers);
    let pairs = query_pairs(query.as_deref());
    let search = Search::new(SearchRequest::from_query(&pairs)?)?;
    let index = stac.visible_index(&viewer).await;
    Ok(geo(run_search(
        state.services.as_ref(),
        &index,
        &search,
        &format!("{base}/stac/search"),
        &pairs,
    )))
}

async fn search_post(
    State(stac): State<StacState>,
    Viewer(viewer): Viewer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, StacError> {
    let state = &stac.app;
    let base = base_url(state, &headers);
    let raw: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| StacError::BadRequest(format!("body is not JSON: {e}")))?
    };
    let request: SearchRequest = serde_json::from_value(raw.clone())
        .map_err(|e| StacError::BadRequest(format!("bad search body: {e}")))?;
    let search = Search::new(request)?;
    let index = stac.visible_index(&viewer).await;
    let mut result = run_search(
        state.services.as_ref(),
        &index,
        &search,
        &format!("{base}/stac/search"),
        &[],
    );
    // Paging a POST search: the next link is a POST with the same body and a token.
    if let Some(links) = result["links"].as_array_mut() {
        for l in links.iter_mut() {
            if l["rel"] == "next" {
                let next = search.offset + search.limit;
                let mut next_body = raw.clone();
                next_body["token"] = json!(format!("next:{next}"));
                *l = json!({"rel": "next", "href": format!("{base}/stac/search"), "type": "application/geo+json", "method": "POST", "body": next_body});
            }
        }
    }
    Ok(geo(result))
}
