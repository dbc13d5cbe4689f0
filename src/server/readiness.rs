//! `/readyz`: whether this replica should get traffic. Ready once the catalog is
//! scanned (the server listens only after that) while every object store the catalog
//! uses answers a listing; not ready from the moment shutdown begins, so a load
//! balancer or Kubernetes stops sending requests before the listener closes.
//! `/healthz` stays a liveness check: a replica whose store is down is alive.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use crate::app::AppState;
use crate::storage::{Location, RemoteLocation};

/// How long a store check's answer is reused: probes from every balancer and the
/// kubelet cost one listing per store per this interval at most.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// A store check's longest wait: a hung store makes the replica unready, not the
/// probe time out.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

pub struct Readiness {
    state: AppState,
    draining: AtomicBool,
    /// The last store check: when, and the stores that failed (with why).
    last: tokio::sync::Mutex<Option<(Instant, BTreeMap<String, String>)>>,
    /// Stores checked, found once from the configuration and the catalog's entries.
    probes: Mutex<Option<Vec<RemoteLocation>>>,
}

impl Readiness {
    pub fn new(state: AppState) -> Readiness {
        Readiness {
            state,
            draining: AtomicBool::new(false),
            last: tokio::sync::Mutex::new(None),
            probes: Mutex::new(None),
        }
    }

    /// From now on `/readyz` answers 503: shutdown has begun.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// One prefix per object store the catalog reads: the configured remote roots, and
    /// for stores only reached through single datasets, the folder of the first one.
    fn probes(&self) -> Vec<RemoteLocation> {
        let mut cached = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cached.as_ref() {
            return p.clone();
        }
        let config = &self.state.config;
        let mut by_store: BTreeMap<String, RemoteLocation> = BTreeMap::new();
        for root in &config.roots {
            if let Ok(Location::Remote(r)) = Location::parse(&root.path, &config.base_dir) {
                by_store.entry(r.store.clone()).or_insert(r);
            }
        }
        for entry in self.state.catalog.entries().values() {
            if let Location::Remote(r) = &entry.location
                && !by_store.contains_key(&r.store)
            {
                let folder = r.key.rsplit_once('/').map_or("", |(dir, _)| dir);
                let folder = if folder.is_empty() {
                    String::new()
                } else {
                    format!("{folder}/")
                };
                by_store.insert(r.store.clone(), r.with_key(folder));
            }
        }
        let list: Vec<RemoteLocation> = by_store.into_values().collect();
        *cached = Some(list.clone());
        list
    }

    /// The stores that do not answer now (checked at most every `CHECK_EVERY`).
    async fn failing_stores(&self) -> BTreeMap<String, String> {
        let mut last = self.last.lock().await;
        if let Some((at, failed)) = last.as_ref()
            && at.elapsed() < CHECK_EVERY
        {
            return failed.clone();
        }
        let storage = self.state.catalog.storage();
        let checks = self.probes().into_iter().map(|prefix| async move {
            let answer = tokio::time::timeout(CHECK_TIMEOUT, storage.reachable(&prefix)).await;
            let problem = match answer {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(_) => Some(format!("no answer within {CHECK_TIMEOUT:?}")),
            };
            problem.map(|p| (prefix.store.clone(), p))
        });
        let failed: BTreeMap<String, String> = futures::future::join_all(checks)
            .await
            .into_iter()
            .flatten()
            .collect();
        for (store, problem) in &failed {
            tracing::warn!("readiness: {store}: {problem}");
        }
        *last = Some((Instant::now(), failed.clone()));
        failed
    }
}

/// `GET /readyz`: 200 `{"ready": true}`, or 503 with the reason.
pub async fn readyz(State(readiness): State<Arc<Readiness>>) -> Response {
    if readiness.draining() {
        return not_ready(serde_json::json!({"ready": false, "reason": "shutting down"}));
    }
    let failed = readiness.failing_stores().await;
    if !failed.is_empty() {
        let stores: Vec<&String> = failed.keys().collect();
        return not_ready(serde_json::json!({
            "ready": false,
            "reason": "object store unreachable",
            "stores": stores,
        }));
    }
    Json(serde_json::json!({
        "ready": true,
        "datasets": readiness.state.catalog.len(),
    }))
    .into_response()
}

fn not_ready(body: serde_json::Value) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}
