//! Prometheus metrics: requests by route and status, latency, cache events; requests
//! by service and dataset (dataset labels bounded: see `DatasetLabels`), object-store
//! request latency.

use std::collections::HashSet;
use std::sync::Mutex;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub cache: IntCounterVec,
    /// GET requests to object stores and the bytes they brought, by kind: `range` (the
    /// block cache) or `whole` (a file-cache download).
    pub store_requests: IntCounterVec,
    pub store_bytes: IntCounterVec,
    /// Requests by service (`opendap`, `zarr`, ...), dataset and status class.
    pub dataset_requests: IntCounterVec,
    /// Time to response headers by service.
    pub service_latency: HistogramVec,
    /// Object-store request latency by operation and scheme.
    pub store_latency: HistogramVec,
    /// Which dataset ids have a label of their own.
    pub dataset_labels: DatasetLabels,
}

/// Dataset ids given a label of their own: the first `max` distinct ids requested;
/// later ones are counted as `other`, so an archive of a million files cannot blow up
/// the time series (and a replica behind an id-hashing balancer sees only its share).
pub struct DatasetLabels {
    max: usize,
    known: Mutex<HashSet<String>>,
}

/// How many datasets get their own label in request metrics.
pub const DATASET_LABELS: usize = 100;

impl DatasetLabels {
    pub fn new(max: usize) -> DatasetLabels {
        DatasetLabels {
            max,
            known: Mutex::new(HashSet::new()),
        }
    }

    /// The label of `id`: itself while there is room, else `other`.
    pub fn label(&self, id: &str) -> String {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.contains(id) {
            return id.to_string();
        }
        if known.len() < self.max {
            known.insert(id.to_string());
            return id.to_string();
        }
        "other".to_string()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "datagate_requests_total",
                "HTTP requests by route and status",
            ),
            &["route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "datagate_request_duration_seconds",
                "Time to response headers",
            )
            .buckets(vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0]),
            &["route"],
        )
        .expect("valid metric");
        let cache = IntCounterVec::new(
            Opts::new(
                "datagate_cache_events_total",
                "Cache hits, misses and evictions",
            ),
            &["cache", "event"],
        )
        .expect("valid metric");
        let store_requests = IntCounterVec::new(
            Opts::new(
                "datagate_object_store_requests_total",
                "GET requests sent to object stores, by kind (range, whole)",
            ),
            &["kind"],
        )
        .expect("valid metric");
        let store_bytes = IntCounterVec::new(
            Opts::new(
                "datagate_object_store_bytes_total",
                "Bytes received from object stores, by kind (range, whole)",
            ),
            &["kind"],
        )
        .expect("valid metric");
        let dataset_requests = IntCounterVec::new(
            Opts::new(
                "datagate_dataset_requests_total",
                "HTTP requests by service, dataset (the first 100 ids, then \"other\"; \"none\" \
                 outside datasets) and status class",
            ),
            &["service", "dataset", "status"],
        )
        .expect("valid metric");
        let service_latency = HistogramVec::new(
            HistogramOpts::new(
                "datagate_service_request_duration_seconds",
                "Time to response headers, by service",
            )
            .buckets(vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0]),
            &["service"],
        )
        .expect("valid metric");
        let store_latency = HistogramVec::new(
            HistogramOpts::new(
                "datagate_object_store_seconds",
                "Object-store request latency by operation (head, get, get_range, list) and \
                 scheme (s3, gs, az, http)",
            )
            .buckets(vec![
                0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            &["op", "scheme"],
        )
        .expect("valid metric");
        for c in [
            Box::new(dataset_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(service_latency.clone()),
            Box::new(store_latency.clone()),
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(cache.clone()),
            Box::new(store_requests.clone()),
            Box::new(store_bytes.clone()),
        ] {
            registry.register(c).expect("unique metric");
        }
        Metrics {
            registry,
            requests,
            latency,
            cache,
            store_requests,
            store_bytes,
            dataset_requests,
            service_latency,
            store_latency,
            dataset_labels: DatasetLabels::new(DATASET_LABELS),
        }
    }

    /// Records a finished request of `service` about dataset `id` (if any).
    pub fn service_request(&self, service: &str, id: Option<&str>, status: u16, secs: f64) {
        let dataset = id.map_or_else(|| "none".to_string(), |id| self.dataset_labels.label(id));
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.dataset_requests
            .with_label_values(&[service, &dataset, class])
            .inc();
        self.service_latency
            .with_label_values(&[service])
            .observe(secs);
    }

    /// Records the latency of one object-store request.
    pub fn object_store_latency(&self, op: &str, scheme: &str, secs: f64) {
        self.store_latency
            .with_label_values(&[op, scheme])
            .observe(secs);
    }

    pub fn cache_event(&self, cache: &str, event: &str) {
        self.cache.with_label_values(&[cache, event]).inc();
    }

    /// Records a GET to an object store.
    pub fn object_store_read(&self, kind: &str, bytes: u64) {
        self.store_requests.with_label_values(&[kind]).inc();
        self.store_bytes.with_label_values(&[kind]).inc_by(bytes);
    }

    /// Records a lookup in `cache`.
    pub fn cache_lookup(&self, cache: &str, hit: bool) {
        self.cache_event(cache, if hit { "hit" } else { "miss" });
    }

    /// A moka eviction listener counting the entries `cache` pushed out for space.
    pub fn eviction_listener<K, V>(
        self: &std::sync::Arc<Self>,
        cache: &'static str,
    ) -> impl Fn(std::sync::Arc<K>, V, moka::notification::RemovalCause) + Send + Sync + 'static
    {
        let metrics = self.clone();
        move |_key, _value, cause| {
            if cause.was_evicted() {
                metrics.cache_event(cache, "eviction");
            }
        }
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding");
        String::from_utf8(buf).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_labels_are_bounded() {
        let labels = DatasetLabels::new(2);
        assert_eq!(labels.label("a"), "a");
        assert_eq!(labels.label("b"), "b");
        assert_eq!(labels.label("c"), "other");
        assert_eq!(labels.label("a"), "a");
        let m = Metrics::new();
        for i in 0..(DATASET_LABELS + 50) {
            m.service_request("opendap", Some(&format!("d{i}")), 200, 0.01);
        }
        m.service_request("landing", None, 404, 0.01);
        let text = m.render();
        let series = text
            .lines()
            .filter(|l| l.starts_with("datagate_dataset_requests_total{"))
            .count();
        assert_eq!(series, DATASET_LABELS + 2, "{text}");
        assert!(text.contains("dataset=\"other\""));
    }
}
