//! The catalog: configured and scanned datasets, their ids, and the cache of opened
//! datasets keyed by (location, size, modification time) so a changed file is re-read.
//!
//! `build.rs` makes the entries of the configuration, `remote.rs` lists object stores,
//! `open.rs` opens datasets into the caches of `open_cache.rs`, `collections.rs` builds
//! aggregations (indexes derived from the whole catalog, like STAC's, belong to the
//! services that use them, keyed by `Catalog::generation`); `scan.rs`
//! finds files, whose formats the readers' format table knows.

mod aggregation;
mod build;
mod collections;
mod concat;
mod dataset;
mod error;
mod extent;
mod feature_union;
mod footprint;
mod member_chunks;
mod member_meta;
mod name_date;
mod open;
mod open_cache;
mod parts;
mod remote;
mod scalar_coords;
mod scan;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use crate::metrics::Metrics;
use crate::storage::Storage;

pub use crate::config::Combine;
pub use aggregation::{AggregationReader, Candidate, Member};
pub use concat::concat;
pub use dataset::{Dataset, DatasetEntry};
pub use error::CatalogError;
pub use extent::DatasetExtent;
pub use name_date::date_from_name;
pub use scan::{FoundFile, is_dataset, is_dataset_file, scan_dir, scan_glob};
// What a `Dataset` exposes of the readers, so protocols need not import them.
pub use crate::readers::{FormatSpec, ReadError, Reader, formats};

pub struct Catalog {
    entries: RwLock<Arc<BTreeMap<String, DatasetEntry>>>,
    storage: Arc<Storage>,
    /// Opened readers and datasets, and remote versions.
    opened: open_cache::OpenCache,
    /// The member ids of each aggregation.
    members: RwLock<HashMap<String, Vec<String>>>,
    /// The aggregations that unite observation files by their features.
    feature_unions: RwLock<std::collections::HashSet<String>>,
    /// Bumped whenever datasets are added or rebuilt.
    generation: std::sync::atomic::AtomicU64,
    /// Indexes other modules derive from the whole catalog (the STAC item index...), with
    /// Aggregated datasets by id, rebuilt by `build_collections`.
    collections: RwLock<HashMap<String, Arc<Dataset>>>,
    metrics: Arc<Metrics>,
}

impl Catalog {
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Changes whenever datasets are added or aggregations rebuilt.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn bump(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn insert_entries(&self, new: Vec<DatasetEntry>) {
        self.bump();
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        let mut map = (**entries).clone();
        for e in new {
            map.insert(e.id.clone(), e);
        }
        *entries = Arc::new(map);
    }

    /// All entries, ordered by id.
    pub fn entries(&self) -> Arc<BTreeMap<String, DatasetEntry>> {
        self.entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Splits a request path into the longest known id that prefixes it and the rest
    /// (`sst.nc.dds` → (`sst.nc`, `.dds`); `a/b.nc/.zattrs` → (`a/b.nc`, `/.zattrs`)).
    /// An id must end at the end of the path or before a `.` or `/`.
    pub fn resolve<'p>(&self, path: &'p str) -> Option<(String, &'p str)> {
        let entries = self.entries();
        let mut best = None;
        for (i, c) in path
            .char_indices()
            .chain(std::iter::once((path.len(), '/')))
        {
            if (c == '.' || c == '/') && i > 0 && entries.contains_key(&path[..i]) {
                best = Some(i);
            }
        }
        best.map(|i| (path[..i].to_string(), &path[i..]))
    }
}

// Last: scripts/check-layers.py reads a file up to its first `#[cfg(test)]`.
#[cfg(test)]
mod tests;
