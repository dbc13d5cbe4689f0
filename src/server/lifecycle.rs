//! Signals: SIGTERM (or Ctrl-C) starts a graceful shutdown: `/readyz` answers 503 at
//! once, the listener stays open `server.drain_secs` more (a balancer or Kubernetes
//! notices and stops sending), then closes, and in-flight requests finish. SIGHUP
//! looks for new datasets, as `POST /datasets/rescan` does, without dropping a
//! request; other configuration changes need a restart (rolling, one replica at a
//! time behind a balancer).

use std::sync::Arc;
use std::time::Duration;

use super::readiness::Readiness;
use crate::app::AppState;

/// Resolves when the listener should close: after a shutdown signal and the drain.
pub async fn shutdown_signal(readiness: Arc<Readiness>, drain: Duration) {
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
    readiness.drain();
    if !drain.is_zero() {
        tracing::info!("shutting down: not ready; still serving for {drain:?}");
        tokio::time::sleep(drain).await;
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// On every SIGHUP, rescans the catalog in the background.
pub fn rescan_on_hangup(state: AppState) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hup.recv().await.is_some() {
            let before = state.catalog.len();
            let problems = state.catalog.refresh(&state.config).await;
            for p in &problems {
                tracing::warn!("rescan: {p}");
            }
            tracing::info!(
                "SIGHUP: rescanned, {} datasets (were {before})",
                state.catalog.len()
            );
        }
    });
    #[cfg(not(unix))]
    let _ = state;
}
