//! Decoded pieces of objects (inflated chunks, tiles, fields), shared by every open
//! file, reader and protocol in the process and bounded by bytes.
//!
//! Keys carry the object's URL and version, so a changed file is never answered from
//! its old pieces, and a piece decoded for one protocol serves the others. moka's
//! admission (TinyLFU) keeps it scan-resistant: a bulk read's one-off chunks do not
//! push out the chunks a point time series keeps coming back to.

use std::sync::Arc;

use super::version::ObjectVersion;
use crate::metrics::Metrics;

/// One decoded piece: which object at which version, which item of it (a variable
/// path) and which piece (chunk grid coordinates).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DecodedKey {
    pub url: Arc<str>,
    pub version: Arc<ObjectVersion>,
    pub item: Arc<str>,
    pub coords: Vec<u64>,
}

pub struct DecodedCache {
    cache: moka::sync::Cache<DecodedKey, Arc<[u8]>>,
    metrics: Arc<Metrics>,
}

impl DecodedCache {
    pub fn new(capacity_bytes: u64, metrics: Arc<Metrics>) -> DecodedCache {
        let cache = moka::sync::Cache::builder()
            .max_capacity(capacity_bytes)
            .weigher(|k: &DecodedKey, v: &Arc<[u8]>| {
                (v.len() + k.item.len() + k.coords.len() * 8 + 96)
                    .try_into()
                    .unwrap_or(u32::MAX)
            })
            .eviction_listener(metrics.eviction_listener("decoded_chunk"))
            .build();
        DecodedCache { cache, metrics }
    }

    pub fn get(&self, key: &DecodedKey) -> Option<Arc<[u8]>> {
        let hit = self.cache.get(key);
        let event = if hit.is_some() { "hit" } else { "miss" };
        self.metrics.cache_event("decoded_chunk", event);
        hit
    }

    pub fn insert(&self, key: DecodedKey, value: Arc<[u8]>) {
        self.cache.insert(key, value);
    }

    /// Largest piece worth keeping: one that would fill an eighth of the cache would
    /// evict too much for one entry.
    pub fn max_entry_bytes(&self) -> usize {
        let cap = self.cache.policy().max_capacity().unwrap_or(0);
        usize::try_from(cap / 8).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(coords: Vec<u64>, etag: &str) -> DecodedKey {
        DecodedKey {
            url: "file:///a.nc".into(),
            version: Arc::new(ObjectVersion {
                size: 10,
                last_modified: None,
                etag: Some(etag.into()),
            }),
            item: "/sst".into(),
            coords,
        }
    }

    #[test]
    fn keyed_by_version_and_piece() {
        let c = DecodedCache::new(1 << 20, Arc::new(Metrics::new()));
        c.insert(key(vec![0, 1], "v1"), Arc::from(&b"abc"[..]));
        assert_eq!(c.get(&key(vec![0, 1], "v1")).as_deref(), Some(&b"abc"[..]));
        assert!(c.get(&key(vec![0, 1], "v2")).is_none());
        assert!(c.get(&key(vec![1, 1], "v1")).is_none());
        assert_eq!(c.max_entry_bytes(), (1 << 20) / 8);
    }
}
