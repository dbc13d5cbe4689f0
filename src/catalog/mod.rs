//! The catalog: configured and scanned datasets, their ids, and the cache of opened
//! datasets keyed by (location, size, modification time) so a changed file is re-read.

mod scan;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::UNIX_EPOCH;

use futures::StreamExt;
use serde::Serialize;
use thiserror::Error;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::model::{Array, DatasetMeta};
use crate::readers::{self, FileFormat, ReadError, Reader};
use crate::storage::{Location, ObjectVersion, Storage, StorageError};
use crate::subset::Hyperslab;

pub use scan::{FoundFile, is_dataset_file, scan_dir, scan_glob};

#[derive(Debug, Error)]
pub enum CatalogError {
    #[error("no dataset {0:?}")]
    NotFound(String),
    #[error("dataset {id:?} is unavailable: {source}")]
    Unavailable { id: String, source: Arc<ReadError> },
}

impl CatalogError {
    /// The HTTP status every protocol answers this error with: 404 for an unknown id,
    /// 504 when storage timed out, 502 for other storage failures, 503 when the file
    /// cannot be read.
    pub fn status(&self) -> u16 {
        match self {
            CatalogError::NotFound(_) => 404,
            CatalogError::Unavailable { source, .. } => match source.as_ref() {
                ReadError::Storage(StorageError::Timeout(_)) => 504,
                ReadError::Storage(StorageError::NotFound(_)) => 404,
                ReadError::Storage(_) => 502,
                _ => 503,
            },
        }
    }
}

/// A catalogued dataset, before it is opened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetEntry {
    pub id: String,
    pub title: Option<String>,
    #[serde(skip)]
    pub location: Location,
}

/// An opened dataset: metadata and the reader that serves its data.
pub struct Dataset {
    pub id: String,
    pub title: String,
    pub location: Location,
    pub version: ObjectVersion,
    pub meta: Arc<DatasetMeta>,
    pub reader: Arc<dyn Reader>,
}

impl Dataset {
    pub fn format(&self) -> FileFormat {
        self.reader.format()
    }

    pub async fn read(&self, var: &str, slab: &Hyperslab) -> Result<Array, ReadError> {
        self.reader.read(var, slab).await
    }

    /// Reads `slab` of `var` in consecutive pieces of at most `max_bytes` each (at least
    /// one innermost row), in row-major order: for streaming responses with bounded
    /// memory. Each piece is read only when the stream is polled.
    pub fn read_blocks(
        self: &Arc<Self>,
        var: &str,
        slab: &Hyperslab,
        max_bytes: usize,
    ) -> impl futures::Stream<Item = Result<Array, ReadError>> + Send + 'static {
        let elem = self
            .meta
            .variable(var)
            .and_then(|v| v.dtype.size())
            .unwrap_or(64);
        let pieces = slab.split((max_bytes / elem).max(1));
        let (ds, var) = (self.clone(), var.to_string());
        futures::stream::iter(pieces).then(move |piece| {
            let (ds, var) = (ds.clone(), var.clone());
            async move { ds.read(&var, &piece).await }
        })
    }

    /// A strong validator for the dataset's current version (size + modification time).
    pub fn etag(&self) -> String {
        let mtime = self
            .version
            .last_modified
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        match &self.version.etag {
            Some(tag) if !tag.is_empty() => format!("\"{}\"", tag.trim_matches('"')),
            _ => format!("\"{:x}-{:x}\"", self.version.size, mtime),
        }
    }
}

type CacheKey = (Location, ObjectVersion);

pub struct Catalog {
    entries: RwLock<Arc<BTreeMap<String, DatasetEntry>>>,
    storage: Arc<Storage>,
    open: moka::future::Cache<CacheKey, Arc<Dataset>>,
    /// Versions of remote objects, trusted for `storage.revalidate_secs`.
    remote_versions: moka::future::Cache<Location, ObjectVersion>,
    metrics: Arc<Metrics>,
}

/// File names that remote scans treat as datasets (listing cannot read magic bytes
/// cheaply); readers still check the bytes when the dataset is opened.
const DATASET_EXTENSIONS: &[&str] = &[
    ".nc", ".nc4", ".nc3", ".cdf", ".h5", ".hdf5", ".he5", ".hdf",
];

impl Catalog {
    /// Builds the catalog of a configuration. Problems (missing files, bad globs,
    /// duplicate ids) are returned beside it: they are logged, never fatal.
    pub fn from_config(config: &Config, metrics: Arc<Metrics>) -> (Catalog, Vec<String>) {
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
                            && !is_dataset_file(p)
                        {
                            problems.push(format!(
                                "dataset {id:?}: {} is missing or not a NetCDF/HDF5 file",
                                p.display()
                            ));
                            continue;
                        }
                        add(
                            DatasetEntry {
                                id: id.clone(),
                                title: d.title.clone(),
                                location,
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
                };
                add(entry, &mut problems);
            }
        }
        let mut versions = moka::future::Cache::builder().max_capacity(100_000);
        if config.storage.revalidate_secs > 0 {
            versions = versions.time_to_live(std::time::Duration::from_secs(
                config.storage.revalidate_secs,
            ));
        }
        let catalog = Catalog {
            entries: RwLock::new(Arc::new(entries)),
            storage: Arc::new(Storage::new(config.storage.clone(), metrics.clone())),
            open: moka::future::Cache::builder()
                .max_capacity(config.cache.metadata_entries)
                .build(),
            remote_versions: versions.build(),
            metrics,
        };
        (catalog, problems)
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Lists the remote roots and globs of `config` (object-store prefixes) and adds
    /// what they hold. Returns the problems found.
    pub async fn scan_remote(&self, config: &Config) -> Vec<String> {
        let mut problems = Vec::new();
        let mut found: Vec<DatasetEntry> = Vec::new();
        let mut scans: Vec<(String, String, Option<glob::Pattern>)> = Vec::new();
        for root in &config.roots {
            if root.path.contains("://") && !root.path.starts_with("file://") {
                let prefix = if root.path.ends_with('/') {
                    root.path.clone()
                } else {
                    format!("{}/", root.path)
                };
                scans.push((prefix, root.prefix.clone(), None));
            }
        }
        for d in &config.datasets {
            if let Some(pattern) = d.glob.as_ref().filter(|p| p.contains("://")) {
                let fixed_end = pattern.find(['*', '?', '[']).unwrap_or(pattern.len());
                let fixed = &pattern[..pattern[..fixed_end].rfind('/').map_or(0, |i| i + 1)];
                match glob::Pattern::new(pattern) {
                    Ok(p) => {
                        scans.push((fixed.to_string(), d.id.clone().unwrap_or_default(), Some(p)))
                    }
                    Err(e) => problems.push(format!("bad glob {pattern:?}: {e}")),
                }
            }
        }
        for (prefix_url, id_prefix, pattern) in scans {
            let Ok(Location::Remote(prefix)) = Location::parse(&prefix_url, &config.base_dir)
            else {
                problems.push(format!("{prefix_url}: not an object-store URL"));
                continue;
            };
            match self.storage.list(&prefix).await {
                Ok(objects) => {
                    let before = found.len();
                    for o in objects {
                        let url = o.location.url();
                        let rel = o.location.key[prefix.key.len()..]
                            .trim_start_matches('/')
                            .to_string();
                        let wanted = match &pattern {
                            Some(p) => p.matches(&url),
                            None => DATASET_EXTENSIONS.iter().any(|e| rel.ends_with(e)),
                        };
                        let id = format!("{id_prefix}{rel}");
                        if wanted && crate::config::valid_id(&id) {
                            found.push(DatasetEntry {
                                id,
                                title: None,
                                location: Location::Remote(o.location),
                            });
                        }
                    }
                    if found.len() == before {
                        problems.push(format!("{prefix_url}: no dataset files found"));
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
        problems
    }

    /// The current version of a location: remote ones are trusted for the
    /// revalidation interval, local files are checked every time (one `stat`).
    async fn version(&self, loc: &Location) -> Result<ObjectVersion, StorageError> {
        if !loc.is_remote() {
            return self.storage.head(loc).await;
        }
        if let Some(v) = self.remote_versions.get(loc).await {
            return Ok(v);
        }
        let v = self.storage.head(loc).await?;
        self.remote_versions.insert(loc.clone(), v.clone()).await;
        Ok(v)
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

    /// Opens a dataset (or returns it from the cache if its file has not changed).
    pub async fn open(&self, id: &str) -> Result<Arc<Dataset>, CatalogError> {
        let entry = self
            .entries()
            .get(id)
            .cloned()
            .ok_or_else(|| CatalogError::NotFound(id.to_string()))?;
        let unavailable = |e: ReadError| CatalogError::Unavailable {
            id: id.to_string(),
            source: Arc::new(e),
        };
        let version = match self.version(&entry.location).await {
            Ok(v) => v,
            Err(StorageError::NotFound(_)) => return Err(CatalogError::NotFound(id.to_string())),
            Err(e) => return Err(unavailable(e.into())),
            // (404 for a vanished file is handled above.)
        };
        let key = (entry.location.clone(), version.clone());
        if let Some(ds) = self.open.get(&key).await {
            self.metrics.cache_event("metadata", "hit");
            return Ok(ds);
        }
        self.metrics.cache_event("metadata", "miss");
        let storage = self.storage.clone();
        self.open
            .try_get_with(key, async move {
                let reader = readers::open(&entry.location, &storage).await?;
                let meta = reader.metadata();
                let title = entry
                    .title
                    .clone()
                    .or_else(|| {
                        use crate::model::AttributeList;
                        meta.attributes().attr_text("title")
                    })
                    .unwrap_or_else(|| entry.id.clone());
                Ok::<_, ReadError>(Arc::new(Dataset {
                    id: entry.id.clone(),
                    title,
                    location: entry.location.clone(),
                    version,
                    meta,
                    reader,
                }))
            })
            .await
            .map_err(|e: Arc<ReadError>| CatalogError::Unavailable {
                id: id.to_string(),
                source: e,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_and_reopens_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("y")).unwrap();
        crate::fixtures::types_cdf5(&dir.path().join("a.nc")).unwrap();
        crate::fixtures::types_cdf5(&dir.path().join("y/a.nc")).unwrap();
        let config = Config::for_roots(&[dir.path().to_path_buf()]);
        let (cat, problems) = Catalog::from_config(&config, Arc::new(Metrics::new()));
        assert!(problems.is_empty());
        assert_eq!(cat.len(), 2);
        assert_eq!(cat.resolve("a.nc.dds"), Some(("a.nc".into(), ".dds")));
        assert_eq!(cat.resolve("a.nc"), Some(("a.nc".into(), "")));
        assert_eq!(
            cat.resolve("y/a.nc/.zgroup"),
            Some(("y/a.nc".into(), "/.zgroup"))
        );
        assert_eq!(cat.resolve("a.ncx"), None);
        assert_eq!(cat.resolve("../a.nc"), None);
        assert_eq!(cat.resolve("y"), None);

        let first = cat.open("a.nc").await.unwrap();
        let again = cat.open("a.nc").await.unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert!(first.meta.variable("v_u16").is_some());
        assert!(matches!(
            cat.open("zzz").await,
            Err(CatalogError::NotFound(_))
        ));

        // Rewrite with different content: a new size, so a new open.
        std::thread::sleep(std::time::Duration::from_millis(20));
        crate::fixtures::sst_classic(&dir.path().join("a.nc"), netcdf::Options::empty()).unwrap();
        let changed = cat.open("a.nc").await.unwrap();
        assert!(!Arc::ptr_eq(&first, &changed));
        assert!(changed.meta.variable("sst").is_some());
        assert_ne!(first.etag(), changed.etag());
    }

    #[tokio::test]
    async fn blocks_concatenate_to_the_whole() {
        let dir = tempfile::tempdir().unwrap();
        crate::fixtures::gridded_nc4(&dir.path().join("g.nc")).unwrap();
        let (cat, _) = Catalog::from_config(
            &Config::for_roots(&[dir.path().to_path_buf()]),
            Arc::new(Metrics::new()),
        );
        let ds = cat.open("g.nc").await.unwrap();
        let slab = Hyperslab::full(&[4, 3, 20, 36]);
        let whole = ds.read("/temp", &slab).await.unwrap();
        let blocks: Vec<_> = ds.read_blocks("/temp", &slab, 1000).collect().await;
        assert!(blocks.len() > 10);
        let mut values = blocks[0].as_ref().unwrap().values.clone();
        for b in &blocks[1..] {
            let b = b.as_ref().unwrap();
            assert!(b.len() * 4 <= 1000 || b.shape.iter().rev().skip(1).all(|&n| n == 1));
            values.extend(b.values.clone()).unwrap();
        }
        assert_eq!(values, whole.values);
    }

    #[tokio::test]
    async fn reports_config_problems() {
        let dir = tempfile::tempdir().unwrap();
        crate::fixtures::types_cdf5(&dir.path().join("a.nc")).unwrap();
        let mut config: Config = toml::from_str(
            r#"
            [[datasets]]
            id = "one"
            location = "a.nc"
            [[datasets]]
            id = "one"
            location = "a.nc"
            [[datasets]]
            id = "two"
            location = "missing.nc"
            [[datasets]]
            glob = "*.nothing"
            "#,
        )
        .unwrap();
        config.base_dir = dir.path().to_path_buf();
        let (cat, problems) = Catalog::from_config(&config, Arc::new(Metrics::new()));
        assert_eq!(cat.len(), 1);
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
