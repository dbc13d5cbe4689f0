//! The web interface for people: the catalog page (search, facets, a map of the
//! results), a page per dataset (variables, extents, endpoints, snippets, a map
//! viewer over the WMS, request builders for OPeNDAP and EDR), all through one layout
//! and stylesheet, with the scripts and vendored libraries served from the binary.
//! JSON stays the answer for clients that do not ask for HTML.

mod assets;
mod dataset;
mod listing;
mod pages;
mod search;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use crate::app::AppState;
use crate::auth::{Principal, Viewer};
use crate::http::base_url;
use crate::service::Service;

pub use assets::PREFIX as STATIC_PREFIX;
pub use search::{Card, Query, Results, search};

/// The landing document for clients that ask for JSON (the server's).
pub type JsonLanding = fn(&AppState, &Principal, &HeaderMap) -> Response;

/// The web interface's state: the app's, the cached listing and the JSON landing.
#[derive(Clone)]
struct WebState {
    app: AppState,
    listing: Arc<listing::Listing>,
    json_landing: JsonLanding,
}

/// The web interface as a service: `/` for browsers, `/datasets/{id}`, `/static/`.
pub struct Web {
    listing: Arc<listing::Listing>,
    json_landing: JsonLanding,
}

pub fn service(_state: &AppState, json_landing: JsonLanding) -> Arc<dyn Service> {
    Arc::new(Web {
        listing: Arc::default(),
        json_landing,
    })
}

impl Service for Web {
    fn name(&self) -> &'static str {
        "web"
    }

    fn paths(&self) -> &'static [&'static str] {
        &["/static/", "/datasets/"]
    }

    /// Dataset pages and notebooks (`/datasets/{id}`, `/datasets/{id}/notebook.ipynb`).
    fn datasets(&self, state: &AppState, req: crate::service::RequestInfo<'_>) -> Vec<String> {
        crate::service::dataset_under(state, req.path, "/datasets/")
    }

    fn endpoints(&self, base: &str, id: &str) -> Vec<crate::endpoint::Endpoint> {
        vec![crate::endpoint::Endpoint::new(
            "html",
            "Dataset page (variables, map, request builders)",
            format!("{base}/datasets/{id}"),
            "text/html",
        )]
    }

    fn service_links(&self, base: &str) -> Vec<crate::endpoint::Endpoint> {
        vec![crate::endpoint::Endpoint::new(
            "search",
            "Catalog search (web interface)",
            format!("{base}/"),
            "text/html",
        )]
    }

    fn router(&self, state: &AppState) -> Router {
        Router::new()
            .route("/", get(home))
            .route("/datasets/{*path}", get(datasets_path))
            .route("/static/{*path}", get(assets::serve))
            .with_state(WebState {
                app: state.clone(),
                listing: self.listing.clone(),
                json_landing: self.json_landing,
            })
    }
}

/// The client asked for HTML (a browser), not JSON or anything else.
fn wants_html(query: Option<&str>, headers: &HeaderMap) -> bool {
    if let Some(q) = query {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            if k == "f" {
                return v == "html";
            }
        }
    }
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

#[derive(Serialize)]
struct CatalogPage<'a> {
    title: &'static str,
    results: Results<'a>,
    q: &'a str,
    bbox: String,
    start: String,
    end: String,
    /// The form's parameters without `page` (for page links), URL-encoded.
    query_without_page: String,
    services: Vec<dataset::LinkView>,
    total_datasets: usize,
}

/// `/`: the catalog page for browsers, the JSON landing for other clients.
async fn home(
    State(web): State<WebState>,
    Viewer(viewer): Viewer,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if crate::http::wants_json(query.as_deref(), &headers) {
        return (web.json_landing)(&web.app, &viewer, &headers);
    }
    let base = base_url(&web.app, &headers);
    let site = pages::Site::of(&web.app, &viewer, &base);
    let q = match Query::parse(query.as_deref()) {
        Ok(q) => q,
        Err(e) => return pages::error_page(StatusCode::BAD_REQUEST, &site, &e.to_string()),
    };
    let cards = listing::visible_cards(&web.listing, &web.app, &viewer).await;
    let results = search(&cards, &q);
    let query_without_page = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
                .filter(|(k, v)| k != "page" && !v.is_empty()),
        )
        .finish();
    pages::render(
        StatusCode::OK,
        &site,
        "catalog.html",
        CatalogPage {
            title: "Catalog",
            results,
            q: &q.q,
            bbox: q
                .bbox
                .map(|b| format!("{},{},{},{}", b.west(), b.south(), b.east(), b.north()))
                .unwrap_or_default(),
            start: q
                .start
                .as_deref()
                .map(|s| s[..10].to_string())
                .unwrap_or_default(),
            end: q
                .end
                .as_deref()
                .map(|s| s[..10].to_string())
                .unwrap_or_default(),
            query_without_page,
            services: web
                .app
                .services
                .service_links(&base)
                .into_iter()
                .map(dataset::LinkView::from)
                .collect(),
            total_datasets: cards.len(),
        },
    )
}

/// `/datasets/{id}`: the dataset page (HTML) or its description (JSON);
/// `/datasets/{id}/notebook.ipynb`: its notebook.
async fn datasets_path(
    State(web): State<WebState>,
    Viewer(viewer): Viewer,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let visible = listing::visible_cards(&web.listing, &web.app, &viewer).await;
    if let Some(id) = path.strip_suffix("/notebook.ipynb") {
        if !visible.iter().any(|c| c.id == id) {
            return crate::http::json_error(StatusCode::NOT_FOUND, format!("no dataset {id}"));
        }
        return crate::intake::notebook(State(web.app.clone()), Path(path), headers).await;
    }
    let html = wants_html(query.as_deref(), &headers);
    let base = base_url(&web.app, &headers);
    let site = pages::Site::of(&web.app, &viewer, &base);
    let Some(card) = visible.into_iter().find(|c| c.id == path) else {
        let message = format!("no dataset {path}");
        return if html {
            pages::error_page(StatusCode::NOT_FOUND, &site, &message)
        } else {
            crate::http::json_error(StatusCode::NOT_FOUND, message)
        };
    };
    let ds = match web.app.catalog.open(&card.id).await {
        Ok(ds) => ds,
        Err(e) => {
            use crate::error::Kinded;
            let status = e.kind().status();
            return if html {
                pages::error_page(status, &site, &e.to_string())
            } else {
                crate::http::json_error(status, e.to_string())
            };
        }
    };
    let description = dataset::describe(&web.app, &base, &ds, &card).await;
    if html {
        dataset::page(&site, description)
    } else {
        axum::Json(description).into_response()
    }
}
