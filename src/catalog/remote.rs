//! Object-store listings: remote roots and globs (`s3://bucket/prefix/`), whose files
//! are recognised by the format table's file-name endings.

use std::path::Path;

use futures::StreamExt;
use std::sync::Arc;

use super::{Catalog, DatasetEntry, scan_glob};
use crate::config::Config;
use crate::readers;
use crate::storage::{ListedObject, Location, RemoteLocation};

/// Listed files whose first bytes are read at once to recognise them (JSON references).
const PROBE_CONCURRENCY: usize = 8;

/// A listed prefix's key with its trailing `/` (empty for a bucket's root).
fn prefix_key(prefix: &RemoteLocation) -> String {
    if prefix.key.is_empty() || prefix.key.ends_with('/') {
        prefix.key.clone()
    } else {
        format!("{}/", prefix.key)
    }
}

impl Catalog {
    /// Lists the remote roots and globs of `config` (object-store prefixes) and adds
    /// what they hold, then splits the files (local or remote) that hold several
    /// datasets: every caller scans once the catalog is built, so all are listed by
    /// then. Returns the problems found.
    pub async fn scan_remote(&self, config: &Config) -> Vec<String> {
        let mut problems = self.list_remote(config).await;
        problems.extend(self.split_multi_dataset_files().await);
        problems
    }

    async fn list_remote(&self, config: &Config) -> Vec<String> {
        let mut problems = Vec::new();
        let mut found: Vec<DatasetEntry> = Vec::new();
        let mut scans: Vec<(String, String)> = Vec::new();
        for root in &config.roots {
            if root.path.contains("://") && !root.path.starts_with("file://") {
                let prefix = if root.path.ends_with('/') {
                    root.path.clone()
                } else {
                    format!("{}/", root.path)
                };
                scans.push((prefix, root.prefix.clone()));
            }
        }
        for d in &config.datasets {
            if let Some(pattern) = d.glob.as_ref().filter(|p| p.contains("://")) {
                match self.glob_locations(pattern, &config.base_dir).await {
                    Ok(files) if files.is_empty() => {
                        problems.push(format!("glob {pattern:?} matches no dataset file"))
                    }
                    Ok(files) => {
                        let prefix = d.id.clone().unwrap_or_default();
                        found.extend(files.into_iter().map(|(rel, location)| DatasetEntry {
                            id: format!("{prefix}{rel}"),
                            title: None,
                            location,
                            part: None,
                        }));
                    }
                    Err(e) => problems.push(e),
                }
            }
        }
        for (prefix_url, id_prefix) in scans {
            let Ok(Location::Remote(prefix)) = Location::parse(&prefix_url, &config.base_dir)
            else {
                problems.push(format!("{prefix_url}: not an object-store URL"));
                continue;
            };
            match self.storage.list(&prefix).await {
                Ok(objects) => {
                    let listed: Vec<(String, ListedObject)> = objects
                        .into_iter()
                        .map(|o| {
                            let rel = o.location.key[prefix.key.len()..]
                                .trim_start_matches('/')
                                .to_string();
                            (rel, o)
                        })
                        .collect();
                    let datasets = self.listed_datasets(&prefix, listed).await;
                    if datasets.is_empty() {
                        problems.push(format!("{prefix_url}: no dataset files found"));
                    }
                    for (rel, location) in datasets {
                        let id = format!("{id_prefix}{rel}");
                        if crate::config::valid_id(&id) {
                            found.push(DatasetEntry {
                                id,
                                title: None,
                                location,
                                part: None,
                            });
                        }
                    }
                }
                Err(e) => problems.push(format!("{prefix_url}: {e}")),
            }
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        let mut map = (**entries).clone();
        for e in found {
            if map.contains_key(&e.id) {
                problems.push(format!("duplicate id {:?}; keeping the first", e.id));
            } else {
                map.insert(e.id.clone(), e);
            }
        }
        *entries = Arc::new(map);
        drop(entries);
        self.bump();
        problems
    }

    /// The datasets among the objects listed under `prefix` (with their paths relative
    /// to it): directory datasets (Zarr stores) found by their marker objects, the
    /// outermost only and nothing inside them; files by their names, where bytes cannot
    /// be read cheaply, except for rows with a content probe (JSON references), whose
    /// first bytes are read. Readers still check the bytes when a dataset is opened.
    async fn listed_datasets(
        &self,
        prefix: &RemoteLocation,
        listed: Vec<(String, ListedObject)>,
    ) -> Vec<(String, Location)> {
        let mut stores: Vec<&str> = listed
            .iter()
            .filter_map(|(rel, _)| readers::formats::directory_marker(rel).map(|(_, dir)| dir))
            .collect();
        stores.sort_unstable();
        stores.dedup();
        let inside = |rel: &str, dir: &str| {
            rel.len() > dir.len() && rel.starts_with(dir) && rel.as_bytes()[dir.len()] == b'/'
        };
        let outermost: Vec<&str> = stores
            .iter()
            .copied()
            .filter(|s| !stores.iter().any(|outer| inside(s, outer)))
            .collect();
        let mut out: Vec<(String, Location)> = outermost
            .iter()
            .map(|dir| {
                let key = format!("{}{dir}/", prefix_key(prefix));
                (dir.to_string(), Location::Remote(prefix.with_key(key)))
            })
            .collect();
        let mut probed = Vec::new();
        for (rel, o) in &listed {
            if outermost.iter().any(|dir| inside(rel, dir)) {
                continue;
            }
            let Some(format) = readers::formats::listed_format(rel) else {
                continue;
            };
            let location = Location::Remote(o.location.clone());
            match format.probe {
                Some(_) => probed.push((rel.clone(), location, o.size)),
                None => out.push((rel.clone(), location)),
            }
        }
        // First bytes of the files a name cannot decide, a few requests at a time.
        let confirmed: Vec<Option<(String, Location)>> = futures::stream::iter(probed)
            .map(|(rel, location, size)| async move {
                let head = (readers::formats::PROBE_BYTES as u64).min(size);
                match self.storage.get_range(&location, 0..head).await {
                    Ok(bytes) if readers::formats::detect_named(&rel, &bytes).is_some() => {
                        Some((rel, location))
                    }
                    _ => None,
                }
            })
            .buffer_unordered(PROBE_CONCURRENCY)
            .collect()
            .await;
        out.extend(confirmed.into_iter().flatten());
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Files matching a glob, local (relative to `base`) or remote (`s3://b/p/*.nc`),
    /// with their paths relative to the glob's leading directory.
    pub async fn glob_locations(
        &self,
        pattern: &str,
        base: &Path,
    ) -> Result<Vec<(String, Location)>, String> {
        if !pattern.contains("://") || pattern.starts_with("file://") {
            let local = pattern.strip_prefix("file://").unwrap_or(pattern);
            let full = base.join(local);
            return Ok(scan_glob(&full.to_string_lossy())?
                .into_iter()
                .map(|f| (f.relative_id, Location::Local(f.path)))
                .collect());
        }
        let fixed_end = pattern.find(['*', '?', '[']).unwrap_or(pattern.len());
        let fixed = &pattern[..pattern[..fixed_end].rfind('/').map_or(0, |i| i + 1)];
        let matcher =
            glob::Pattern::new(pattern).map_err(|e| format!("bad glob {pattern:?}: {e}"))?;
        let Ok(Location::Remote(prefix)) = Location::parse(fixed, base) else {
            return Err(format!("{pattern}: not an object-store URL"));
        };
        let objects = self
            .storage
            .list(&prefix)
            .await
            .map_err(|e| format!("{pattern}: {e}"))?;
        Ok(objects
            .into_iter()
            .filter(|o| matcher.matches(&o.location.url()))
            .map(|o| {
                let rel = o.location.key[prefix.key.len()..]
                    .trim_start_matches('/')
                    .to_string();
                (rel, Location::Remote(o.location))
            })
            .collect())
    }
}
