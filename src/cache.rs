//! The one cache type for views derived from a dataset version (parsed schemas,
//! layouts, checksums, rendered images, indexes). Bounded by an estimate of bytes,
//! sized from configuration, counted in `/metrics` (`datagate_cache_events_total`
//! with this cache's name: hit, miss, eviction). Built at start-up and owned by the
//! service that uses it. Keys carry the dataset's version (id + ETag), so a changed
//! file is never answered from a stale entry.

use std::hash::Hash;
use std::sync::Arc;

use crate::metrics::Metrics;

/// What an entry costs, in bytes (an estimate is enough: the bound is for memory).
pub trait Weight {
    fn weight(&self) -> usize;
}

impl<T: Weight + ?Sized> Weight for Arc<T> {
    fn weight(&self) -> usize {
        (**self).weight()
    }
}

impl Weight for bytes::Bytes {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weight for u32 {
    fn weight(&self) -> usize {
        4
    }
}

impl<T> Weight for Vec<T> {
    fn weight(&self) -> usize {
        self.len().saturating_mul(std::mem::size_of::<T>())
    }
}

impl<T: Weight> Weight for Option<T> {
    fn weight(&self) -> usize {
        self.as_ref().map_or(0, Weight::weight)
    }
}

/// The version of a dataset a cached view was derived from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VersionKey {
    pub id: String,
    pub etag: String,
}

impl VersionKey {
    pub fn of(ds: &crate::catalog::Dataset) -> VersionKey {
        VersionKey {
            id: ds.id.clone(),
            etag: ds.etag(),
        }
    }
}

/// A byte-bounded cache named in the metrics.
pub struct ViewCache<K, V> {
    name: &'static str,
    inner: moka::future::Cache<K, V>,
    metrics: Arc<Metrics>,
}

impl<K, V> Clone for ViewCache<K, V> {
    fn clone(&self) -> Self {
        ViewCache {
            name: self.name,
            inner: self.inner.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

/// Fixed cost of an entry besides its value (key, bookkeeping): so that a cache of
/// tiny values is still bounded in count.
const ENTRY_OVERHEAD: usize = 256;

impl<K, V> ViewCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Weight + Clone + Send + Sync + 'static,
{
    /// A cache holding at most `max_bytes` of entries.
    pub fn new(name: &'static str, max_bytes: u64, metrics: &Arc<Metrics>) -> Self {
        ViewCache {
            name,
            inner: moka::future::Cache::builder()
                .weigher(|_k, v: &V| {
                    u32::try_from(v.weight().saturating_add(ENTRY_OVERHEAD)).unwrap_or(u32::MAX)
                })
                .max_capacity(max_bytes)
                .eviction_listener(metrics.eviction_listener(name))
                .build(),
            metrics: metrics.clone(),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub async fn get(&self, key: &K) -> Option<V> {
        let found = self.inner.get(key).await;
        self.metrics.cache_lookup(self.name, found.is_some());
        found
    }

    pub async fn insert(&self, key: K, value: V) {
        self.inner.insert(key, value).await;
    }

    /// The cached value, or `init`'s, computed once however many ask at the same time.
    pub async fn get_with(&self, key: K, init: impl Future<Output = V>) -> V {
        let entry = self.inner.entry(key).or_insert_with(init).await;
        self.metrics.cache_lookup(self.name, !entry.is_fresh());
        entry.into_value()
    }

    /// Like `get_with` for a computation that may fail; failures are not cached.
    pub async fn try_get_with<E>(
        &self,
        key: K,
        init: impl Future<Output = Result<V, E>>,
    ) -> Result<V, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        let entry = self.inner.entry(key).or_try_insert_with(init).await?;
        self.metrics.cache_lookup(self.name, !entry.is_fresh());
        Ok(entry.into_value())
    }

    pub fn invalidate_all(&self) {
        self.inner.invalidate_all();
    }

    /// Entries and their total weight (for tests and diagnostics).
    pub async fn usage(&self) -> (u64, u64) {
        self.inner.run_pending_tasks().await;
        (self.inner.entry_count(), self.inner.weighted_size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounded_by_bytes_and_counted() {
        let metrics = Arc::new(Metrics::new());
        let cache: ViewCache<u32, bytes::Bytes> = ViewCache::new("test_view", 10_000, &metrics);
        for i in 0..100 {
            cache
                .get_with(i, async { bytes::Bytes::from(vec![0u8; 1000]) })
                .await;
        }
        let (_, weight) = cache.usage().await;
        assert!(weight <= 10_000, "{weight}");
        let again = cache.get_with(99, async { bytes::Bytes::new() }).await;
        assert_eq!(again.len(), 1000, "a hit returns the cached value");
        let failed: Result<_, Arc<&str>> = cache.try_get_with(1000, async { Err("no") }).await;
        assert!(failed.is_err());
        assert!(cache.get(&1000).await.is_none(), "failures are not cached");
        let text = metrics.render();
        assert!(
            text.contains("cache=\"test_view\",event=\"hit\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("cache=\"test_view\",event=\"eviction\""),
            "{text}"
        );
    }
}
