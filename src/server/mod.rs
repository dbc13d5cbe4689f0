//! The HTTP server: routing, middleware, configuration. Each protocol is one module
//! with its own router (or handler) and its own error → response mapping.

mod files;
pub mod http;
mod landing;
mod opendap;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::metrics::Metrics;

pub use opendap::OpendapRequest;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub catalog: Arc<Catalog>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// Builds the catalog of `config`; problems with datasets are logged, not fatal.
    pub fn new(config: Config) -> AppState {
        let metrics = Arc::new(Metrics::new());
        let (catalog, problems) = Catalog::from_config(&config, metrics.clone());
        for p in problems {
            tracing::warn!("catalog: {p}");
        }
        tracing::info!("catalog: {} datasets", catalog.len());
        AppState {
            catalog: Arc::new(catalog),
            config: Arc::new(config),
            metrics,
        }
    }
}

impl AppState {
    /// Like `new`, then lists object-store roots and globs (which needs the network)
    /// and builds the aggregations.
    pub async fn load(config: Config) -> AppState {
        let state = AppState::new(config);
        for p in state.catalog.scan_remote(&state.config).await {
            tracing::warn!("catalog: {p}");
        }
        for p in state.catalog.build_collections(&state.config).await {
            tracing::warn!("catalog: {p}");
        }
        tracing::info!(
            "catalog: {} datasets after remote scans and aggregations",
            state.catalog.len()
        );
        state.spawn_rescans();
        state
    }

    /// Rebuilds aggregations periodically when a collection asks for it.
    fn spawn_rescans(&self) {
        let Some(every) = self
            .config
            .collections
            .iter()
            .filter_map(|c| c.rescan_secs)
            .min()
        else {
            return;
        };
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(every.max(1)));
            tick.tick().await;
            loop {
                tick.tick().await;
                for p in state.catalog.build_collections(&state.config).await {
                    tracing::warn!("rescan: {p}");
                }
            }
        });
    }
}

/// The whole application: routes and middleware.
pub fn router(state: AppState) -> Router {
    let server = &state.config.server;
    let mut app = Router::new()
        .route("/", get(landing::landing))
        .route("/datasets", get(landing::datasets))
        .route("/healthz", get(landing::healthz))
        .route("/metrics", get(landing::metrics))
        .route("/datasets/rescan", axum::routing::post(landing::rescan))
        // Protocols: one line each.
        .route(
            "/opendap/{*path}",
            get(opendap::dispatch).head(opendap::dispatch),
        )
        .route("/files/{*id}", get(files::file))
        .merge(crate::stac::router())
        .merge(crate::thredds::router())
        .merge(crate::intake::router())
        .merge(crate::zarr::router())
        .merge(crate::wms::router())
        .merge(crate::edr::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(RequestBodyLimitLayer::new(server.max_request_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(server.request_timeout_secs),
        ))
        .layer(
            // One structured line per request at INFO: method, URI, status, latency.
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        );
    if server.compression {
        app = app.layer(CompressionLayer::new().gzip(true).deflate(true));
    }
    if server.cors {
        app = app.layer(CorsLayer::permissive());
    }
    app.with_state(state)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"code": 404, "description": "no such resource"})),
    )
        .into_response()
}

async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    state
        .metrics
        .latency
        .with_label_values(&[&route])
        .observe(start.elapsed().as_secs_f64());
    state
        .metrics
        .requests
        .with_label_values(&[&route, response.status().as_str()])
        .inc();
    response
}

/// Serves until SIGTERM or Ctrl-C, then finishes in-flight requests.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let app = router(state);
    // Small responses written in pieces would otherwise wait for the client's delayed
    // ACK (Nagle): ~25 ms per request.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("TCP_NODELAY: {e}");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
