//! Prometheus metrics: requests by route and status, latency, cache events.

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
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
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
        }
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
