//! Shared request state every protocol handler reaches: the catalog, the
//! configuration and the metrics. Sits below the protocols; the server assembles.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, Method};

use crate::catalog::Catalog;
use crate::config::Config;
use crate::endpoint::{EndpointDirectory, NoEndpoints};
use crate::metrics::Metrics;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub catalog: Arc<Catalog>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// The services the server offers (installed by the server when it assembles
    /// them): what every endpoint list is built from.
    pub services: Arc<dyn EndpointDirectory>,
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
            services: Arc::new(NoEndpoints),
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

/// A request to an OPeNDAP endpoint, as the protocol modules receive it.
#[derive(Debug, Clone)]
pub struct OpendapRequest {
    pub method: Method,
    /// The query string exactly as received (still percent-encoded).
    pub query: Option<String>,
    pub headers: HeaderMap,
}
