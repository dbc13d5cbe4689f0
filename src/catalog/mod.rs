//! The catalog: configured and scanned datasets, their ids, and the cache of opened
//! datasets keyed by (location, size, modification time) so a changed file is re-read.

mod aggregation;
mod concat;
mod extent;
mod scan;

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::UNIX_EPOCH;

use futures::StreamExt;
use serde::Serialize;
use thiserror::Error;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::model::{Array, DatasetMeta};
use crate::readers;
use crate::storage::{Location, ObjectVersion, Storage, StorageError};
use crate::subset::Hyperslab;

pub use aggregation::{AggregationReader, Candidate, Combine, Member, date_from_name};
pub use concat::concat;
pub use extent::DatasetExtent;
pub use scan::{FoundFile, is_dataset_file, scan_dir, scan_glob};
// What a `Dataset` exposes of the readers, so protocols need not import them.
pub use crate::readers::{FormatSpec, ReadError, Reader, formats};

#[derive(Debug, Error)]
pub enum CatalogError {
    #[error("no dataset {0:?}")]
    NotFound(String),
    /// Displays without the source's locations (clients see it); the source, with
    /// them, is for the log.
    #[error("dataset {id:?} is unavailable: {}", source.public_message())]
    Unavailable { id: String, source: Arc<ReadError> },
}

impl crate::error::Kinded for CatalogError {
    /// 404 for an unknown id or a vanished file, the source's kind otherwise (504 when
    /// storage timed out, 502 for other storage failures, 503 when the file cannot be
    /// read).
    fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            CatalogError::NotFound(_) => ErrorKind::NotFound,
            CatalogError::Unavailable { source, .. } => match source.kind() {
                // A bad slab cannot come from opening: the file is at fault.
                ErrorKind::BadRequest => ErrorKind::Unreadable,
                k => k,
            },
        }
    }
}

impl CatalogError {
    /// The HTTP status of `kind()`.
    pub fn status(&self) -> u16 {
        use crate::error::Kinded;
        self.kind().status().as_u16()
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
    /// The dataset's row of the format table (`format().name` for listings).
    pub fn format(&self) -> &'static FormatSpec {
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

/// A derived index and the catalog generation it was built at.
type DerivedSlot = (u64, Arc<dyn Any + Send + Sync>);

/// Readers are shared by every id naming the same file version; datasets are per id.
type ReaderKey = (Location, ObjectVersion);
type DatasetKey = (String, Location, ObjectVersion);

pub struct Catalog {
    entries: RwLock<Arc<BTreeMap<String, DatasetEntry>>>,
    storage: Arc<Storage>,
    /// How files are opened (`[readers]`).
    readers_config: crate::readers::ReadersConfig,
    readers: moka::future::Cache<ReaderKey, Arc<dyn Reader>>,
    open: moka::future::Cache<DatasetKey, Arc<Dataset>>,
    /// Versions of remote objects, trusted for `storage.revalidate_secs`.
    remote_versions: moka::future::Cache<Location, ObjectVersion>,
    /// The member ids of each aggregation.
    members: RwLock<HashMap<String, Vec<String>>>,
    /// Bumped whenever datasets are added or rebuilt.
    generation: std::sync::atomic::AtomicU64,
    /// Indexes other modules derive from the whole catalog (the STAC item index...), with
    /// the generation they were built at.
    derived: Mutex<HashMap<TypeId, DerivedSlot>>,
    /// Aggregated datasets by id, rebuilt by `build_collections`.
    collections: RwLock<std::collections::HashMap<String, Arc<Dataset>>>,
    metrics: Arc<Metrics>,
}

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
        let min_weight = config.cache.metadata_bytes / config.cache.metadata_entries.max(1);
        fn weight(bytes: u64, min: u64) -> u32 {
            bytes.max(min).min(u32::MAX as u64) as u32
        }
        fn footprint(r: &dyn crate::readers::Reader) -> u64 {
            (r.metadata().approx_bytes() + r.memory_budget()) as u64
        }
        let catalog = Catalog {
            entries: RwLock::new(Arc::new(entries)),
            storage: Arc::new(Storage::new(config.storage.clone(), metrics.clone())),
            readers_config: config.readers.clone(),
            // Bounded by memory (metadata, plus what a reader may hold decoded);
            // `metadata_entries` caps the count through a minimum weight per entry.
            readers: moka::future::Cache::builder()
                .weigher(move |_k, r: &Arc<dyn crate::readers::Reader>| {
                    weight(footprint(r.as_ref()), min_weight)
                })
                .max_capacity(config.cache.metadata_bytes)
                .eviction_listener(metrics.eviction_listener("reader"))
                .build(),
            open: moka::future::Cache::builder()
                .weigher(move |_k, d: &Arc<Dataset>| {
                    weight(footprint(d.reader.as_ref()), min_weight)
                })
                .max_capacity(config.cache.metadata_bytes)
                .eviction_listener(metrics.eviction_listener("metadata"))
                .build(),
            remote_versions: versions.build(),
            collections: RwLock::new(std::collections::HashMap::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
            members: RwLock::new(HashMap::new()),
            derived: Mutex::new(HashMap::new()),
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
                    let before = found.len();
                    for o in objects {
                        let rel = o.location.key[prefix.key.len()..]
                            .trim_start_matches('/')
                            .to_string();
                        // Listings cannot read bytes cheaply: names decide here, and
                        // readers still check the bytes when the dataset is opened.
                        let wanted = readers::formats::has_dataset_extension(&rel);
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
        drop(entries);
        self.bump();
        problems
    }

    fn collection(&self, id: &str) -> Option<Arc<Dataset>> {
        self.collections
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Changes whenever datasets are added or aggregations rebuilt.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn bump(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// An index derived from the whole catalog, built by `build` and kept until the
    /// catalog changes (one slot per type).
    pub async fn derived<T, F, Fut>(&self, build: F) -> Arc<T>
    where
        T: Any + Send + Sync,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        let generation = self.generation();
        let slot = self
            .derived
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&TypeId::of::<T>())
            .filter(|(g, _)| *g == generation)
            .map(|(_, v)| v.clone());
        if let Some(v) = slot.and_then(|v| v.downcast::<T>().ok()) {
            return v;
        }
        let built = Arc::new(build().await);
        self.derived
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(TypeId::of::<T>(), (generation, built.clone()));
        built
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

    /// Files matching a glob, local (relative to `base`) or remote (`s3://b/p/*.nc`),
    /// with their paths relative to the glob's leading directory.
    pub async fn glob_locations(
        &self,
        pattern: &str,
        base: &std::path::Path,
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

    /// Builds (or rebuilds) every configured aggregation. Each file is also served alone
    /// as `{collection}/{relative path}`. Files that do not fit are reported and left
    /// out; a collection whose files did not change is kept as it is.
    pub async fn build_collections(&self, config: &Config) -> Vec<String> {
        let mut problems = Vec::new();
        for c in &config.collections {
            let combine = match c.combine() {
                Ok(k) => k,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            let files = match self.glob_locations(&c.glob, &config.base_dir).await {
                Ok(f) if !f.is_empty() => f,
                Ok(_) => {
                    problems.push(format!(
                        "collection {:?}: glob {:?} matches no file",
                        c.id, c.glob
                    ));
                    continue;
                }
                Err(e) => {
                    problems.push(format!("collection {:?}: {e}", c.id));
                    continue;
                }
            };
            let members: Vec<DatasetEntry> = files
                .into_iter()
                .map(|(rel, location)| DatasetEntry {
                    id: format!("{}/{rel}", c.id),
                    title: None,
                    location,
                })
                .collect();
            let member_ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
            self.insert_entries(members);
            self.insert_entries(vec![DatasetEntry {
                id: c.id.clone(),
                title: c.title.clone(),
                location: Location::Collection(c.id.clone()),
            }]);
            let mut candidates = Vec::new();
            for id in member_ids {
                match self.open(&id).await {
                    Ok(ds) => candidates.push(Candidate {
                        id,
                        location: ds.location.clone(),
                        version: ds.version.clone(),
                        reader: ds.reader.clone(),
                    }),
                    Err(e) => problems.push(format!("collection {:?}: {e}; excluded", c.id)),
                }
            }
            match AggregationReader::build(candidates, &combine).await {
                Ok((reader, found)) => {
                    problems.extend(
                        found
                            .into_iter()
                            .map(|p| format!("collection {:?}: {p}", c.id)),
                    );
                    let version = reader.version();
                    let ids = reader.members().iter().map(|m| m.id.clone()).collect();
                    self.members
                        .write()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(c.id.clone(), ids);
                    if self
                        .collection(&c.id)
                        .is_some_and(|old| old.version == version)
                    {
                        continue;
                    }
                    let meta = reader.metadata();
                    let title = c
                        .title
                        .clone()
                        .or_else(|| {
                            use crate::model::AttributeList;
                            meta.attributes().attr_text("title")
                        })
                        .unwrap_or_else(|| c.id.clone());
                    let ds = Arc::new(Dataset {
                        id: c.id.clone(),
                        title,
                        location: Location::Collection(c.id.clone()),
                        version,
                        meta,
                        reader: Arc::new(reader),
                    });
                    self.collections
                        .write()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(c.id.clone(), ds);
                    self.bump();
                }
                Err(e) => problems.push(format!("collection {:?}: {e}", c.id)),
            }
        }
        problems
    }

    /// The ids of the files an aggregated dataset is made of (not those excluded), if
    /// `id` is one.
    pub fn collection_members(&self, id: &str) -> Option<Vec<String>> {
        self.members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// The current version of a location: remote ones are trusted for the
    /// revalidation interval, local files are checked every time (one `stat`).
    async fn version(&self, loc: &Location) -> Result<ObjectVersion, StorageError> {
        if !loc.is_remote() || self.storage.config().revalidate_secs == 0 {
            return self.storage.head(loc).await;
        }
        if self.storage.take_changed(loc) {
            self.remote_versions.invalidate(loc).await;
        } else if let Some(v) = self.remote_versions.get(loc).await {
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
        if let Some(ds) = self.collection(id) {
            return Ok(ds);
        }
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
        let key = (id.to_string(), entry.location.clone(), version.clone());
        if let Some(ds) = self.open.get(&key).await {
            self.metrics.cache_event("metadata", "hit");
            return Ok(ds);
        }
        self.metrics.cache_event("metadata", "miss");
        let storage = self.storage.clone();
        let readers_config = self.readers_config.clone();
        let readers = self.readers.clone();
        self.open
            .try_get_with(key, async move {
                let reader_key = (entry.location.clone(), version.clone());
                let (location, v) = (entry.location.clone(), version.clone());
                let reader = readers
                    .try_get_with(reader_key, async move {
                        readers::open_at(&location, &v, &storage, &readers_config).await
                    })
                    .await?;
                let meta = reader.metadata();
                let title = entry
                    .title
                    .clone()
                    .or_else(|| {
                        use crate::model::AttributeList;
                        meta.attributes().attr_text("title")
                    })
                    .unwrap_or_else(|| entry.id.clone());
                Ok::<_, Arc<ReadError>>(Arc::new(Dataset {
                    id: entry.id.clone(),
                    title,
                    location: entry.location.clone(),
                    version,
                    meta,
                    reader,
                }))
            })
            .await
            .map_err(|e: Arc<Arc<ReadError>>| CatalogError::Unavailable {
                id: id.to_string(),
                source: (*e).clone(),
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
    async fn aggregations_read_across_files() {
        use crate::model::ArrayValues;
        use crate::subset::DimSlice;
        let dir = tempfile::tempdir().unwrap();
        crate::fixtures::daily_series(dir.path(), 5).unwrap();
        let mut config: Config = toml::from_str(
            r#"
            [[collections]]
            id = "sst-daily"
            glob = "daily/sst_*.nc"
            join_existing = "time"
            [[collections]]
            id = "sst-undated"
            glob = "undated/grid_*.nc"
            join_new = "time"
            date_format = "grid_%Y%m%d.nc"
            units = "days since 2020-01-01"
            [[collections]]
            id = "nothing"
            glob = "none/*.nc"
            union = true
            "#,
        )
        .unwrap();
        config.base_dir = dir.path().to_path_buf();
        let (cat, _) = Catalog::from_config(&config, Arc::new(Metrics::new()));
        let problems = cat.build_collections(&config).await;
        assert!(
            problems.iter().any(|p| p.contains("sst_bad.nc")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("\"nothing\"")),
            "{problems:?}"
        );
        assert_eq!(problems.len(), 2, "{problems:?}");

        let agg = cat.open("sst-daily").await.unwrap();
        assert_eq!(agg.meta.variable("sst").unwrap().shape(), vec![5, 4, 5]);
        // Each file's own units ("hours since that day") are converted to the first's.
        let t = agg.read("/time", &Hyperslab::full(&[5])).await.unwrap();
        assert_eq!(
            t.values,
            ArrayValues::F64(vec![12.0, 36.0, 60.0, 84.0, 108.0])
        );
        // A strided read spanning files equals the per-file reads.
        let slab = Hyperslab::new(vec![
            DimSlice {
                start: 1,
                stride: 2,
                count: 2,
            },
            DimSlice::index(2),
            DimSlice {
                start: 0,
                stride: 4,
                count: 2,
            },
        ]);
        let a = agg.read("/sst", &slab).await.unwrap();
        let ArrayValues::F32(v) = a.values else {
            panic!()
        };
        let expect = |k: usize, p: usize| 280.0 + k as f32 + p as f32 * 0.01;
        assert_eq!(
            v,
            vec![expect(1, 10), expect(1, 14), expect(3, 10), expect(3, 14)]
        );
        // Aggregations are readers like any other.
        for id in ["sst-daily", "sst-undated"] {
            let ds = cat.open(id).await.unwrap();
            let problems = crate::readers::conformance::check(ds.reader.as_ref()).await;
            assert!(problems.is_empty(), "{id}: {problems:#?}");
        }
        // Members are datasets of their own.
        assert!(cat.open("sst-daily/sst_20200131.nc").await.is_ok());
        assert_eq!(
            cat.resolve("sst-daily.dds"),
            Some(("sst-daily".into(), ".dds"))
        );

        let new = cat.open("sst-undated").await.unwrap();
        let var = new.meta.variable("sst").unwrap();
        assert_eq!(var.shape(), vec![5, 4, 5]);
        assert_eq!(new.meta.variable("lat").unwrap().shape(), vec![4]);
        let t = new.read("/time", &Hyperslab::full(&[5])).await.unwrap();
        assert_eq!(
            t.values,
            ArrayValues::F64(vec![29.0, 30.0, 31.0, 32.0, 33.0])
        );
        let last = new
            .read(
                "/sst",
                &Hyperslab::new(vec![
                    DimSlice::index(4),
                    DimSlice::full(4),
                    DimSlice::full(5),
                ]),
            )
            .await
            .unwrap();
        assert_eq!(last.shape, vec![1, 4, 5]);
        assert_eq!(last.values.get_f64(0), expect(4, 0) as f64);

        // A new file appears: a rebuild picks it up and the version changes.
        let before = agg.etag();
        crate::fixtures::daily_series(&dir.path().join("more"), 6).unwrap();
        std::fs::copy(
            dir.path().join("more/daily/sst_20200204.nc"),
            dir.path().join("daily/sst_20200204.nc"),
        )
        .unwrap();
        cat.build_collections(&config).await;
        let after = cat.open("sst-daily").await.unwrap();
        assert_eq!(after.meta.variable("sst").unwrap().shape(), vec![6, 4, 5]);
        assert_ne!(before, after.etag());
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
