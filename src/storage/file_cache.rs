//! A local copy of remote files for readers that need a path (netCDF-C): bounded by bytes
//! on disk, least-recently-used eviction, atomic writes (download to a temporary name,
//! then rename), reused after a restart, keyed by URL + ETag/size so a changed object is
//! fetched again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use futures::StreamExt;
use object_store::{ObjectStore, path::Path as StorePath};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::error::{StorageError, map_store_error};
use super::version::ObjectVersion;
use crate::metrics::Metrics;

pub struct FileCache {
    dir: PathBuf,
    max_bytes: u64,
    /// One download per file at a time; others wait for it.
    inflight: moka::future::Cache<String, PathBuf>,
    metrics: Arc<Metrics>,
}

fn cache_name(url: &str, version: &ObjectVersion) -> String {
    let mut h = Sha256::new();
    h.update(url.as_bytes());
    h.update(b"\n");
    h.update(version.size.to_le_bytes());
    if let Some(tag) = &version.etag {
        h.update(tag.as_bytes());
    } else if let Some(t) = version.last_modified
        && let Ok(d) = t.duration_since(SystemTime::UNIX_EPOCH)
    {
        h.update(d.as_nanos().to_le_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.data")
}

impl FileCache {
    pub fn new(dir: PathBuf, max_bytes: u64, metrics: Arc<Metrics>) -> FileCache {
        FileCache {
            dir,
            max_bytes,
            inflight: moka::future::Cache::builder()
                .max_capacity(1024)
                .time_to_live(std::time::Duration::from_secs(60))
                .build(),
            metrics,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The local copy of this version of the object, if the cache holds it.
    pub fn cached(&self, url: &str, version: &ObjectVersion) -> Option<PathBuf> {
        let path = self.dir.join(cache_name(url, version));
        std::fs::metadata(&path)
            .is_ok_and(|m| m.len() == version.size)
            .then_some(path)
    }

    /// The local path of the object's current version, downloading it if needed.
    pub async fn fetch(
        &self,
        store: Arc<dyn ObjectStore>,
        key: &StorePath,
        url: &str,
        version: &ObjectVersion,
    ) -> Result<PathBuf, StorageError> {
        let name = cache_name(url, version);
        let path = self.dir.join(&name);
        if tokio::fs::metadata(&path)
            .await
            .is_ok_and(|m| m.len() == version.size)
        {
            self.metrics.cache_event("file", "hit");
            touch(&path);
            return Ok(path);
        }
        let (dir, key, url, version, metrics) = (
            self.dir.clone(),
            key.clone(),
            url.to_string(),
            version.clone(),
            self.metrics.clone(),
        );
        let fetched = self
            .inflight
            .try_get_with(name.clone(), async move {
                metrics.cache_event("file", "miss");
                download(&store, &key, &url, &version, &dir.join(&name)).await?;
                metrics.object_store_read("whole", version.size);
                Ok::<_, StorageError>(dir.join(&name))
            })
            .await
            .map_err(|e: Arc<StorageError>| (*e).clone())?;
        self.evict(&fetched).await;
        Ok(fetched)
    }

    /// Removes least recently used files until the cache fits its budget; `keep` stays.
    async fn evict(&self, keep: &Path) {
        let dir = self.dir.clone();
        let (max, keep) = (self.max_bytes, keep.to_path_buf());
        let removed = tokio::task::spawn_blocking(move || {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                return 0;
            };
            let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "data"))
                .filter_map(|e| {
                    let m = e.metadata().ok()?;
                    Some((m.modified().ok()?, m.len(), e.path()))
                })
                .collect();
            let mut total: u64 = files.iter().map(|f| f.1).sum();
            files.sort();
            let mut removed = 0;
            for (_, len, path) in files {
                if total <= max {
                    break;
                }
                if path != keep && std::fs::remove_file(&path).is_ok() {
                    total -= len;
                    removed += 1;
                }
            }
            removed
        })
        .await
        .unwrap_or(0);
        for _ in 0..removed {
            self.metrics.cache_event("file", "eviction");
        }
    }
}

/// Marks a file as recently used (its modification time orders eviction).
fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

async fn download(
    store: &Arc<dyn ObjectStore>,
    key: &StorePath,
    url: &str,
    version: &ObjectVersion,
    dest: &Path,
) -> Result<(), StorageError> {
    let backend = |e: String| StorageError::Backend {
        location: url.to_string(),
        message: e,
    };
    if let Some(dir) = dest.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| backend(format!("file cache: {e}")))?;
    }
    let tmp = dest.with_extension(format!("tmp{}", std::process::id()));
    let result = async {
        // Conditional on the version's ETag, like range reads: a copy never holds
        // another version's bytes under this version's name.
        let options = object_store::GetOptions {
            if_match: version.etag.clone().filter(|e| !e.starts_with("W/")),
            ..object_store::GetOptions::default()
        };
        let got = store
            .get_opts(key, options)
            .await
            .map_err(|e| map_store_error(url, e))?;
        if let (Some(want), Some(have)) = (&version.etag, &got.meta.e_tag)
            && want != have
        {
            return Err(StorageError::Changed(url.to_string()));
        }
        let mut stream = got.into_stream();
        let mut file = tokio::fs::File::create(&tmp)
            .await
            .map_err(|e| backend(format!("file cache: {e}")))?;
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| map_store_error(url, e))?;
            written += chunk.len() as u64;
            file.write_all(&chunk)
                .await
                .map_err(|e| backend(format!("file cache: {e}")))?;
        }
        file.sync_all()
            .await
            .map_err(|e| backend(format!("file cache: {e}")))?;
        if written != version.size {
            return Err(backend(format!(
                "truncated transfer: {written} of {} bytes",
                version.size
            )));
        }
        tokio::fs::rename(&tmp, dest)
            .await
            .map_err(|e| backend(format!("file cache: {e}")))
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use object_store::{ObjectStoreExt, PutPayload};

    #[tokio::test]
    async fn downloads_once_reuses_and_evicts() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        for (k, n) in [("a", 600usize), ("b", 600)] {
            store
                .put(&StorePath::from(k), PutPayload::from(vec![7u8; n]))
                .await
                .unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let metrics = Arc::new(Metrics::new());
        let cache = FileCache::new(dir.path().to_path_buf(), 1000, metrics.clone());
        let etag = store.head(&StorePath::from("a")).await.unwrap().e_tag;
        let v = |size| ObjectVersion {
            size,
            last_modified: None,
            etag: etag.clone(),
        };
        // Another version than the store holds is refused, not copied.
        let stale = ObjectVersion {
            etag: Some("\"other\"".into()),
            ..v(600)
        };
        let err = cache
            .fetch(store.clone(), &StorePath::from("a"), "mem://a", &stale)
            .await;
        assert!(matches!(err, Err(StorageError::Changed(_))), "{err:?}");
        let a = cache
            .fetch(store.clone(), &StorePath::from("a"), "mem://a", &v(600))
            .await
            .unwrap();
        assert_eq!(std::fs::read(&a).unwrap().len(), 600);
        let again = cache
            .fetch(store.clone(), &StorePath::from("a"), "mem://a", &v(600))
            .await
            .unwrap();
        assert_eq!(a, again);
        // A second file overflows the budget: the older one is evicted.
        std::thread::sleep(std::time::Duration::from_millis(10));
        let b_version = ObjectVersion {
            etag: store.head(&StorePath::from("b")).await.unwrap().e_tag,
            ..v(600)
        };
        let b = cache
            .fetch(store.clone(), &StorePath::from("b"), "mem://b", &b_version)
            .await
            .unwrap();
        assert!(b.exists());
        assert!(!a.exists());
        // A size that does not match what arrives is a truncated transfer, not a file.
        let err = cache
            .fetch(
                store,
                &StorePath::from("b"),
                "mem://b2",
                &ObjectVersion {
                    size: 900,
                    ..b_version
                },
            )
            .await;
        assert!(err.is_err());
        let m = metrics.render();
        assert!(m.contains("cache=\"file\",event=\"hit\"} 1"), "{m}");
        assert!(m.contains("cache=\"file\",event=\"eviction\"} 1"), "{m}");
    }
}
