//! What every finished request leaves: one line in the request log (method, URI,
//! status, latency) and its counts in `/metrics`, by service and dataset. The service
//! is the first path segment (`/opendap/...` → `opendap`; routes are a fixed set), the
//! dataset the longest catalog id found in the rest of the path.
//!
//! The request's span (the context of what its handlers log, and what OpenTelemetry
//! exports) is at DEBUG, or INFO with the `otel` feature: formatting its fields and
//! entering it at every poll cost more than the log line itself, a quarter of a
//! metadata request's CPU (BENCHMARKS.md, stop 30).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

use crate::app::AppState;

pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let (service, dataset) = service_and_dataset(&state, uri.path());
    let span = if cfg!(feature = "otel") {
        tracing::info_span!("request", %method, %uri)
    } else {
        tracing::debug_span!("request", %method, %uri)
    };
    let response = if span.is_disabled() {
        next.run(req).await
    } else {
        next.run(req).instrument(span).await
    };
    let secs = start.elapsed().as_secs_f64();
    let status = response.status();
    if status.is_server_error() {
        tracing::warn!(target: "datagate::request", %method, %uri, status = status.as_u16(), latency_ms = %format_args!("{:.3}", secs * 1e3));
    } else {
        tracing::info!(target: "datagate::request", %method, %uri, status = status.as_u16(), latency_ms = %format_args!("{:.3}", secs * 1e3));
    }
    let metrics = &state.metrics;
    metrics.service_request(service, dataset.as_deref(), status.as_u16(), secs);
    metrics.latency.with_label_values(&[&route]).observe(secs);
    metrics
        .requests
        .with_label_values(&[&route, status.as_str()])
        .inc();
    response
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
