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
    /// Who may sign in and see which datasets.
    pub access: Arc<crate::auth::Access>,
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
        let (access, problems) = crate::auth::Access::new(&config);
        for p in problems {
            tracing::error!("access: {p}");
        }
        AppState {
            catalog: Arc::new(catalog),
            config: Arc::new(config),
            metrics,
            services: Arc::new(NoEndpoints),
            access: Arc::new(access),
        }
    }

    /// Whether `principal` may see dataset `id`: the one test every listing applies
    /// (a restricted dataset does not exist for those not admitted).
    pub fn visible(&self, principal: &crate::auth::Principal, id: &str) -> bool {
        self.access.visible(principal, id, &self.catalog)
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
