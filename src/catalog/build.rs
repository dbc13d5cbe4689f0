//! Building the catalog from the configuration: named files, local globs and local
//! roots (remote ones are listed by `remote.rs`, aggregations built by
//! `collections.rs`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use super::open_cache::OpenCache;
use super::{Catalog, DatasetEntry, is_dataset, scan_dir, scan_glob};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::storage::{Location, Storage};

impl Catalog {
    /// Builds the catalog of a configuration. Problems (missing files, bad globs,
    /// duplicate ids) are returned beside it: they are logged, never fatal.
    pub fn from_config(config: &Config, metrics: Arc<Metrics>) -> (Catalog, Vec<String>) {
        let (entries, problems) = local_entries(config);
        let catalog = Catalog {
            entries: RwLock::new(Arc::new(entries)),
            storage: Arc::new(
                Storage::new(config.storage.clone(), metrics.clone())
                    .with_decoded_cache_bytes(config.cache.decoded_chunk_bytes),
            ),
            opened: OpenCache::new(config, &metrics),
            collections: RwLock::new(HashMap::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
            members: RwLock::new(HashMap::new()),
            feature_unions: RwLock::new(Default::default()),
            metrics,
        };
        (catalog, problems)
    }

    /// Looks again for datasets: files that appeared under the local roots and globs
    /// (files already served are kept as they are), the object-store listings, and the
    /// aggregations. What `POST /datasets/rescan` and `SIGHUP` do. Files that vanished
    /// stay listed; requests for them get the dataset's "unavailable" error.
    pub async fn refresh(&self, config: &Config) -> Vec<String> {
        let (found, _) = local_entries(config);
        let known = self.entries();
        let served: std::collections::HashSet<String> =
            known.values().map(|e| e.location.to_string()).collect();
        let new: Vec<DatasetEntry> = found
            .into_values()
            .filter(|e| !known.contains_key(&e.id) && !served.contains(&e.location.to_string()))
            .collect();
        if !new.is_empty() {
            self.insert_entries(new);
        }
        let mut problems = self.scan_remote(config).await;
        problems.extend(self.build_collections(config).await);
        problems
    }
}

/// The entries of the configuration's named files, local globs and local roots, and
/// the problems found (the first of duplicate ids is kept).
fn local_entries(config: &Config) -> (BTreeMap<String, DatasetEntry>, Vec<String>) {
    let mut problems = Vec::new();
    let mut entries = BTreeMap::new();
    let mut add = |entry: DatasetEntry, problems: &mut Vec<String>| {
        if let Some(old) = entries.get(&entry.id) {
            let old: &DatasetEntry = old;
            problems.push(format!(
                "duplicate id {:?}: {} and {}; keeping the first",
                entry.id, old.location, entry.location
            ));
        } else {
            entries.insert(entry.id.clone(), entry);
        }
    };
    for d in &config.datasets {
        if let (Some(id), Some(loc)) = (&d.id, &d.location) {
            match Location::parse(loc, &config.base_dir) {
                Ok(location) => {
                    // Remote files are checked when first opened.
                    if let Some(p) = location.local_path()
                        && !is_dataset(p)
                    {
                        problems.push(format!(
                            "dataset {id:?}: {} is missing or not in a known format",
                            p.display()
                        ));
                        continue;
                    }
                    add(
                        DatasetEntry {
                            id: id.clone(),
                            title: d.title.clone(),
                            location,
                            part: None,
                        },
                        &mut problems,
                    )
                }
                Err(e) => problems.push(format!("dataset {id:?}: {e}")),
            }
        } else if let Some(pattern) = &d.glob
            && !pattern.contains("://")
        {
            let full = config.base_dir.join(pattern);
            match scan_glob(&full.to_string_lossy()) {
                Ok(found) => {
                    if found.is_empty() {
                        problems.push(format!("glob {pattern:?} matches no dataset file"));
                    }
                    let prefix = d.id.clone().unwrap_or_default();
                    for f in found {
                        let id = format!("{prefix}{}", f.relative_id);
                        add(
                            DatasetEntry {
                                id,
                                title: None,
                                location: Location::Local(f.path),
                                part: None,
                            },
                            &mut problems,
                        );
                    }
                }
                Err(e) => problems.push(e),
            }
        }
    }
    for root in &config.roots {
        if root.path.contains("://") && !root.path.starts_with("file://") {
            continue; // listed by `scan_remote`
        }
        let dir = config
            .base_dir
            .join(root.path.strip_prefix("file://").unwrap_or(&root.path));
        if !dir.is_dir() {
            problems.push(format!("root {:?} is not a directory", dir.display()));
            continue;
        }
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        for f in scan_dir(&dir) {
            let entry = DatasetEntry {
                id: format!("{}{}", root.prefix, f.relative_id),
                title: None,
                location: Location::Local(f.path),
                part: None,
            };
            add(entry, &mut problems);
        }
    }
    (entries, problems)
}
