//! The caches of opened datasets: readers (shared by every id naming the same file
//! version) and datasets, keyed by (location, size, modification time or ETag) so a
//! changed file is re-read, the versions of remote objects, and the files found
//! unreadable.

use std::sync::Arc;

use super::Dataset;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::readers::{ReadError, Reader, ReadersConfig};
use crate::storage::{Location, ObjectVersion};

/// Readers are shared by every id naming the same file version; datasets are per id.
type ReaderKey = (Location, ObjectVersion);
type DatasetKey = (String, Location, ObjectVersion);

/// What the catalog keeps of opened datasets.
pub(super) struct OpenCache {
    /// How files are opened (`[readers]`).
    pub(super) readers_config: ReadersConfig,
    pub(super) readers: moka::future::Cache<ReaderKey, Arc<dyn Reader>>,
    pub(super) datasets: moka::future::Cache<DatasetKey, Arc<Dataset>>,
    /// Versions of remote objects, trusted for `storage.revalidate_secs`.
    pub(super) remote_versions: moka::future::Cache<Location, ObjectVersion>,
    /// Versions of local files, trusted for `storage.local_revalidate_ms` (`None`: a
    /// `stat` on every request).
    pub(super) local_versions: Option<moka::future::Cache<Location, ObjectVersion>>,
    /// File versions that could not be opened (damaged, unsupported), and why: a
    /// request for one is refused at once rather than parsing the file again, so
    /// repeated requests for a damaged file cost no more than any other error.
    pub(super) unreadable: moka::future::Cache<ReaderKey, Arc<ReadError>>,
}

/// How long an unreadable file version is refused without a new attempt. Keyed by
/// version, a changed file is tried at once; the limit is for failures that were not
/// the file's (a descriptor limit met inside a format library).
const UNREADABLE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

impl OpenCache {
    pub(super) fn new(config: &Config, metrics: &Arc<Metrics>) -> OpenCache {
        let mut versions = moka::future::Cache::builder().max_capacity(100_000);
        if config.storage.revalidate_secs > 0 {
            versions = versions.time_to_live(std::time::Duration::from_secs(
                config.storage.revalidate_secs,
            ));
        }
        let local_ms = config.storage.local_revalidate_ms;
        let local_versions = (local_ms > 0).then(|| {
            moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_millis(local_ms))
                .build()
        });
        let min_weight = config.cache.metadata_bytes / config.cache.metadata_entries.max(1);
        fn weight(bytes: u64, min: u64) -> u32 {
            bytes.max(min).min(u32::MAX as u64) as u32
        }
        fn footprint(r: &dyn Reader) -> u64 {
            (r.metadata().approx_bytes() + r.memory_budget()) as u64
        }
        OpenCache {
            readers_config: config.readers.clone(),
            // Bounded by memory (metadata, plus what a reader may hold decoded);
            // `metadata_entries` caps the count through a minimum weight per entry.
            readers: moka::future::Cache::builder()
                .weigher(move |_k, r: &Arc<dyn Reader>| weight(footprint(r.as_ref()), min_weight))
                .max_capacity(config.cache.metadata_bytes)
                .eviction_listener(metrics.eviction_listener("reader"))
                .build(),
            datasets: moka::future::Cache::builder()
                .weigher(move |_k, d: &Arc<Dataset>| {
                    weight(footprint(d.reader.as_ref()), min_weight)
                })
                .max_capacity(config.cache.metadata_bytes)
                .eviction_listener(metrics.eviction_listener("metadata"))
                .build(),
            remote_versions: versions.build(),
            local_versions,
            unreadable: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(UNREADABLE_TTL)
                .build(),
        }
    }
}
