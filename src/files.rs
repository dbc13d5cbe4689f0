//! `/files/{id}`: the dataset file's own bytes (THREDDS' HTTPServer service), with range
//! requests and conditional GET. Aggregations have no file of their own.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tower::ServiceExt as _;
use tower_http::services::ServeFile;

use crate::app::AppState;
use crate::error::Kinded;
use crate::http::json_error as error;
use crate::service::{Service, ThreddsService};
use crate::storage::Location;

pub struct Files;

pub fn service(_state: &AppState) -> std::sync::Arc<dyn Service> {
    std::sync::Arc::new(Files)
}

impl Service for Files {
    fn name(&self) -> &'static str {
        "files"
    }

    fn paths(&self) -> &'static [&'static str] {
        &["/files/"]
    }

    fn datasets(&self, state: &AppState, req: crate::service::RequestInfo<'_>) -> Vec<String> {
        crate::service::dataset_under(state, req.path, "/files/")
    }

    fn router(&self, state: &AppState) -> axum::Router {
        axum::Router::new()
            .route("/files/{*id}", axum::routing::get(file))
            .with_state(state.clone())
    }

    // No per-dataset endpoint: aggregations have no file, and the list is built from
    // ids alone. THREDDS clients reach files through the HTTPServer service.
    fn thredds_services(&self) -> Vec<ThreddsService> {
        vec![ThreddsService {
            name: "files",
            service_type: "HTTPServer",
            base: "/files/",
        }]
    }
}

async fn file(State(state): State<AppState>, Path(id): Path<String>, req: Request) -> Response {
    let ds = match state.catalog.open(&id).await {
        Ok(ds) => ds,
        Err(e) => return error(e.kind().status(), e.to_string()),
    };
    match &ds.location {
        Location::Local(path) => match ServeFile::new(path).oneshot(req).await {
            Ok(r) => r.map(Body::new).into_response(),
            Err(e) => {
                tracing::error!("{id}: {e}");
                error(StatusCode::INTERNAL_SERVER_ERROR, "the file cannot be sent")
            }
        },
        Location::Remote(_) => {
            // Streamed in bounded pieces; a failure midway aborts the body.
            let (size, block) = (
                ds.version.size,
                state.config.limits.read_block_bytes.max(1) as u64,
            );
            let (storage_ds, state2) = (ds.clone(), state.clone());
            let pieces =
                futures::stream::iter((0..size).step_by(block as usize)).then(move |start| {
                    let (ds, state) = (storage_ds.clone(), state2.clone());
                    async move {
                        state
                            .catalog
                            .storage()
                            .get_range_at(
                                &ds.location,
                                &ds.version,
                                start..(start + block).min(size),
                            )
                            .await
                            .map_err(std::io::Error::other)
                    }
                });
            let mut response = Body::from_stream(pieces).into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/octet-stream"),
            );
            if let Ok(v) = header::HeaderValue::from_str(&size.to_string()) {
                h.insert(header::CONTENT_LENGTH, v);
            }
            for (k, v) in crate::http::validators(&ds) {
                h.insert(k, v);
            }
            response
        }
        Location::Collection(_) => error(
            StatusCode::NOT_FOUND,
            format!("{id} is an aggregation: it has no file of its own"),
        ),
    }
}
