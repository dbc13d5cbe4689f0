//! What every finished request leaves: one line in the request log (method, URI,
//! status, latency) and its counts in `/metrics`, by service and dataset. The service
//! is the first path segment (`/opendap/...` → `opendap`; routes are a fixed set), the
//! dataset the longest catalog id found in the rest of the path.
//!
//! The request's span (the context of what its handlers log, and what OpenTelemetry
//! exports) is at DEBUG, or INFO with the `otel` feature: formatting its fields and
//! entering it at every poll cost more than the log line itself, a quarter of a
//! metadata request's CPU (BENCHMARKS.md, stop 30).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

use crate::app::AppState;
use crate::metrics::Metrics;

/// What a request is counted under: its route, service and dataset. Left on the
/// response, so that a replay of it (`replay`) is counted the same.
#[derive(Clone)]
pub struct Recorded {
    route: Arc<str>,
    service: &'static str,
    dataset: Option<Arc<str>>,
}

pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .into();
    let (service, dataset) = service_and_dataset(&state, uri.path());
    let span = if cfg!(feature = "otel") {
        tracing::info_span!("request", %method, %uri)
    } else {
        tracing::debug_span!("request", %method, %uri)
    };
    let mut response = if span.is_disabled() {
        next.run(req).await
    } else {
        next.run(req).instrument(span).await
    };
    let recorded = Recorded {
        route,
        service,
        dataset: dataset.map(Into::into),
    };
    let status = response.status();
    log_and_count(
        &state.metrics,
        &method,
        &uri,
        &recorded,
        status,
        start.elapsed().as_secs_f64(),
    );
    response.extensions_mut().insert(recorded);
    response
}

/// The request's line in the log and its counts in the metrics.
pub fn log_and_count(
    metrics: &Metrics,
    method: &Method,
    uri: &Uri,
    recorded: &Recorded,
    status: StatusCode,
    secs: f64,
) {
    if status.is_server_error() {
        tracing::warn!(target: "datagate::request", %method, %uri, status = status.as_u16(), latency_ms = %format_args!("{:.3}", secs * 1e3));
    } else {
        tracing::info!(target: "datagate::request", %method, %uri, status = status.as_u16(), latency_ms = %format_args!("{:.3}", secs * 1e3));
    }
    let route = &*recorded.route;
    metrics.service_request(
        recorded.service,
        recorded.dataset.as_deref(),
        status.as_u16(),
        secs,
    );
    metrics.latency.with_label_values(&[route]).observe(secs);
    metrics
        .requests
        .with_label_values(&[route, status.as_str()])
        .inc();
}

/// The service label of a path's first segment: the routes' own names, anything
/// else `other` (unmatched paths must not create labels).
fn service_of(first: &str) -> &'static str {
    match first {
        "" => "landing",
        "opendap" => "opendap",
        "zarr" => "zarr",
        "edr" => "edr",
        "wms" => "wms",
        "stac" => "stac",
        "thredds" => "thredds",
        "intake" => "intake",
        "files" => "files",
        "datasets" => "datasets",
        "healthz" | "readyz" | "metrics" => "operations",
        _ => "other",
    }
}

/// The service and dataset (if the path names one) of a request path.
fn service_and_dataset(state: &AppState, path: &str) -> (&'static str, Option<String>) {
    let path = path.trim_start_matches('/');
    let (first, rest) = path.split_once('/').unwrap_or((path, ""));
    let service = service_of(first);
    if matches!(service, "landing" | "operations" | "other") || rest.is_empty() {
        return (service, None);
    }
    // Longer paths are refused by the guards (414); `resolve` costs grow with length.
    if path.len() > state.config.server.max_url_bytes {
        return (service, None);
    }
    // The id follows the service (`/opendap/{id}.dds`, `/zarr/{id}/...`), or its
    // `collections/` (`/edr/collections/{id}/position`, `/stac/collections/{id}`).
    let id = state.catalog.resolve(rest).or_else(|| {
        rest.strip_prefix("collections/")
            .and_then(|r| state.catalog.resolve(r))
    });
    (service, id.map(|(id, _)| id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_a_fixed_set() {
        assert_eq!(service_of("opendap"), "opendap");
        assert_eq!(service_of("wp-admin"), "other");
        assert_eq!(service_of(""), "landing");
    }
}
