//! The HTTP server: it only assembles. The service list below is the one place that
//! names the protocols and catalogs; each is a folder implementing
//! `service::Service` (routes, caches, endpoint links). To add a protocol, write its
//! folder and add one line to `services`.

mod access;
mod admission;
mod connection_threads;
mod guards;
mod landing;
mod lifecycle;
mod listener;
mod readiness;
mod replay;
mod request_record;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use crate::app::AppState;
use crate::service::{Service, Services};
use std::sync::Arc;

/// Every service the server offers, in the order their links are listed.
pub fn services(state: &AppState) -> Vec<Arc<dyn Service>> {
    vec![
        crate::opendap::service(state),
        crate::zarr::service(state),
        crate::edr::service(state),
        crate::wms::service(state),
        crate::stac::service(state),
        crate::thredds::service(state),
        crate::intake::service(state),
        crate::files::service(state),
        crate::web::service(state, landing::landing_json),
    ]
}

/// The whole application: routes and middleware.
pub fn router(state: AppState) -> Router {
    router_with_readiness(state).0
}

/// The application and its readiness (which shutdown turns to "not ready").
fn router_with_readiness(state: AppState) -> (Router, Arc<readiness::Readiness>) {
    let (app, ready, _) = assemble(state);
    (app, ready)
}

/// The application, its readiness and the replay of its answers in front of it.
fn assemble(mut state: AppState) -> (Router, Arc<readiness::Readiness>, Arc<replay::Replay>) {
    let list = Services(Arc::new(services(&state)));
    state.services = Arc::new(list.clone());
    let ready = Arc::new(readiness::Readiness::new(state.clone()));
    let server = &state.config.server;
    let mut app = Router::new()
        .route("/datasets", get(landing::datasets))
        .route("/healthz", get(landing::healthz))
        .route("/readyz", get(readiness::readyz).with_state(ready.clone()))
        .route("/metrics", get(landing::metrics))
        .route("/datasets/rescan", axum::routing::post(landing::rescan))
        .route("/auth/login", get(access::login))
        .route("/auth/whoami", get(access::whoami))
        .fallback(not_found)
        .with_state(state.clone());
    for service in list.0.iter() {
        app = app.merge(service.router(&state));
    }
    let trusted = guards::trusted_proxies(&server.trusted_proxies).unwrap_or_else(|e| {
        tracing::error!("{e}; trusting no proxy");
        Vec::new()
    });
    let trusted = Arc::new(trusted);
    let replay = Arc::new(replay::Replay::new(
        state.config.cache.response_bytes,
        replay_lifetime(&state.config.storage),
        state.catalog.clone(),
        state.metrics.clone(),
        trusted.clone(),
        server.max_url_bytes,
    ));
    let guards = guards::Guards {
        services: list.clone(),
        admission: Arc::new(admission::Admission::new(&state.config.limits)),
        trusted,
        max_url_bytes: server.max_url_bytes,
    };
    let mut app = app
        .layer(RequestBodyLimitLayer::new(server.max_request_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(server.request_timeout_secs),
        ))
        // Who asks and whether they may: inside the guards, which strip untrusted
        // forwarded headers first and catch its panics.
        .layer(middleware::from_fn_with_state(
            access::AccessCheck {
                state: state.clone(),
                services: list.clone(),
            },
            access::check,
        ))
        // Outside the time-out (whose 408 it renders), inside the metrics (refusals
        // and panics are counted too).
        .layer(middleware::from_fn_with_state(guards, guards::guard))
        // Outermost of the server's own layers: what it logs and counts covers refusals,
        // time-outs and panics.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_record::record,
        ));
    if server.compression {
        app = app.layer(CompressionLayer::new().gzip(true).deflate(true));
    }
    if server.cors {
        app = app.layer(CorsLayer::permissive());
    }
    (app, ready, replay)
}

/// A replayed answer lives as long as the versions it was made from are trusted
/// without a new look: the shorter of the local and remote intervals (zero when
/// either looks at every request).
fn replay_lifetime(storage: &crate::storage::StorageConfig) -> Duration {
    let local = Duration::from_millis(storage.local_revalidate_ms);
    let remote = Duration::from_secs(storage.revalidate_secs);
    local.min(remote)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"code": 404, "description": "no such resource"})),
    )
        .into_response()
}

/// Serves until SIGTERM or Ctrl-C, then (`/readyz` failing, after `server.drain_secs`)
/// finishes in-flight requests; SIGHUP rescans the catalog.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let config = state.config.server.clone();
    lifecycle::rescan_on_hangup(state.clone());
    let (app, ready, replay) = assemble(state);
    let shutdown = lifecycle::shutdown_signal(ready, Duration::from_secs(config.drain_secs));
    listener::accept_loop(app, replay, listener, &config, shutdown).await
}

#[cfg(test)]
mod service_links_tests;

#[cfg(test)]
mod access_tests;
