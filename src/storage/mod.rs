//! Where bytes live: local files, S3, Azure, GCS and HTTP through `object_store`, plus a
//! block cache for range reads and a local file cache for readers that need a path.
//! Knows no file format. To add a backend: its URL scheme in `Location::parse`, its
//! `object_store` builder in `Storage::build_remote`, its settings in `StorageConfig`.

mod block_cache;
mod config;
mod decoded;
mod error;
mod file_cache;
mod location;
mod version;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use object_store::local::LocalFileSystem;
use object_store::{
    BackoffConfig, ClientConfigKey, ClientOptions, GetOptions, ObjectStore, ObjectStoreExt,
    RetryConfig, path::Path as StorePath,
};

pub use block_cache::{BlockCache, RangeCounters};
pub use config::{AzureConfig, GcsConfig, S3Config, StorageConfig};
pub use decoded::{DecodedCache, DecodedKey};
pub use error::StorageError;
pub(crate) use error::map_store_error;
pub use file_cache::FileCache;
pub use location::{Location, RemoteLocation};
pub use version::ObjectVersion;

use crate::metrics::Metrics;

/// An object found by listing a store.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedObject {
    pub location: RemoteLocation,
    pub size: u64,
}

/// Access to locations through `object_store`.
pub struct Storage {
    config: StorageConfig,
    local: Arc<LocalFileSystem>,
    /// Remote stores by their base (`s3://bucket`, `https://host`), built on first use.
    remotes: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
    file_cache: FileCache,
    blocks: BlockCache,
    /// Decoded pieces (chunks) of every object, shared by all readers.
    decoded: DecodedCache,
    metrics: Arc<Metrics>,
    /// Remote objects (by URL) found changed during a read, for the catalog to check
    /// again at once rather than after its revalidation interval.
    changed: Mutex<std::collections::HashSet<String>>,
    /// How many times a read found an object changed: what was answered from the old
    /// version (the server's replays) is stale once it moves.
    changes: std::sync::atomic::AtomicU64,
}

impl Default for Storage {
    fn default() -> Self {
        Storage::new(StorageConfig::default(), Arc::new(Metrics::new()))
    }
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage").finish_non_exhaustive()
    }
}

/// The decoded-chunk cache of a storage built without configuration (tests, tools).
const DEFAULT_DECODED_BYTES: u64 = 64 << 20;

impl Storage {
    pub fn new(config: StorageConfig, metrics: Arc<Metrics>) -> Storage {
        let dir = config
            .file_cache_dir
            .as_ref()
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("datagate-file-cache"));
        Storage {
            blocks: BlockCache::new(
                config.block_cache_bytes,
                config.block_bytes,
                config.max_concurrent_requests,
                metrics.clone(),
            ),
            file_cache: FileCache::new(dir, config.file_cache_bytes, metrics.clone()),
            decoded: DecodedCache::new(DEFAULT_DECODED_BYTES, metrics.clone()),
            metrics,
            changed: Mutex::new(std::collections::HashSet::new()),
            changes: std::sync::atomic::AtomicU64::new(0),
            config,
            local: Arc::new(LocalFileSystem::new()),
            remotes: Mutex::new(HashMap::new()),
        }
    }

    /// The same storage with a decoded-chunk cache of `bytes` (`cache.decoded_chunk_bytes`).
    pub fn with_decoded_cache_bytes(mut self, bytes: u64) -> Storage {
        self.decoded = DecodedCache::new(bytes, self.metrics.clone());
        self
    }

    /// Serves the remote store `base` (as a `RemoteLocation::store` names it) from
    /// `store` instead of building a client for it: an in-memory store for the fuzz
    /// targets and tests, which then read without touching a disk.
    pub fn insert_store(&self, base: &str, store: Arc<dyn ObjectStore>) {
        self.remotes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(base.to_string(), store);
    }

    /// Decoded chunks of every object, shared by all readers and protocols.
    pub fn decoded(&self) -> &DecodedCache {
        &self.decoded
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn config(&self) -> &StorageConfig {
        &self.config
    }

    fn client_options(&self) -> ClientOptions {
        ClientOptions::new()
            .with_timeout(Duration::from_secs(self.config.timeout_secs))
            .with_connect_timeout(Duration::from_secs(self.config.connect_timeout_secs))
            .with_allow_http(true)
    }

    fn retry(&self) -> RetryConfig {
        RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: self.config.max_retries,
            retry_timeout: Duration::from_secs(self.config.timeout_secs * 2),
        }
    }

    fn build_remote(&self, base: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
        let invalid =
            |e: object_store::Error| StorageError::InvalidLocation(format!("{base}: {e}"));
        if let Some(bucket) = base.strip_prefix("s3://") {
            let s3 = &self.config.s3;
            let from_env = AmazonS3Builder::from_env();
            // Our client options replace those read from the environment: keep its
            // `AWS_ALLOW_HTTP` (an `AWS_ENDPOINT_URL` of a local S3 server needs it).
            let env_http = env_allows_http(from_env.get_config_value(
                &object_store::aws::AmazonS3ConfigKey::Client(ClientConfigKey::AllowHttp),
            ));
            let mut b = from_env
                .with_bucket_name(bucket)
                .with_client_options(self.client_options())
                .with_retry(self.retry());
            if let Some(e) = &s3.endpoint {
                // S3-compatible servers: path-style requests.
                b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
            }
            if let Some(r) = &s3.region {
                b = b.with_region(r);
            }
            if let Some(k) = &s3.access_key_id {
                b = b.with_access_key_id(k);
            }
            if let Some(k) = &s3.secret_access_key {
                b = b.with_secret_access_key(k);
            }
            if let Some(t) = &s3.session_token {
                b = b.with_token(t);
            }
            b = b
                .with_allow_http(s3.allow_http || env_http)
                .with_skip_signature(s3.anonymous);
            return Ok(Arc::new(b.build().map_err(invalid)?));
        }
        if let Some(bucket) = base.strip_prefix("gs://") {
            let gcs = &self.config.gcs;
            let mut b = GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(bucket)
                .with_client_options(self.client_options())
                .with_retry(self.retry())
                .with_skip_signature(gcs.anonymous);
            if let Some(u) = &gcs.base_url {
                b = b.with_base_url(u);
            }
            if let Some(p) = &gcs.service_account_path {
                b = b.with_service_account_path(p);
            }
            return Ok(Arc::new(b.build().map_err(invalid)?));
        }
        if let Some(container) = base.strip_prefix("az://") {
            let az = &self.config.azure;
            let from_env = MicrosoftAzureBuilder::from_env();
            let env_http = env_allows_http(from_env.get_config_value(
                &object_store::azure::AzureConfigKey::Client(ClientConfigKey::AllowHttp),
            ));
            let mut b = from_env
                .with_container_name(container)
                .with_client_options(self.client_options())
                .with_retry(self.retry())
                .with_use_emulator(az.use_emulator)
                .with_allow_http(az.allow_http || az.use_emulator || env_http)
                .with_skip_signature(az.anonymous);
            if let Some(a) = &az.account {
                b = b.with_account(a);
            }
            if let Some(k) = &az.access_key {
                b = b.with_access_key(k);
            }
            if let Some(e) = &az.endpoint {
                b = b.with_endpoint(e.clone());
            }
            return Ok(Arc::new(b.build().map_err(invalid)?));
        }
        let store = HttpBuilder::new()
            .with_url(base)
            .with_client_options(self.client_options())
            .with_retry(self.retry())
            .build()
            .map_err(invalid)?;
        Ok(Arc::new(store))
    }

    fn store(&self, loc: &Location) -> Result<(Arc<dyn ObjectStore>, StorePath), StorageError> {
        match loc {
            Location::Local(p) => {
                let path = StorePath::from_absolute_path(p)
                    .map_err(|e| StorageError::InvalidLocation(format!("{}: {e}", p.display())))?;
                Ok((self.local.clone(), path))
            }
            Location::Collection(id) => Err(StorageError::InvalidLocation(format!(
                "collection {id} has no bytes of its own"
            ))),
            Location::Remote(r) => {
                let mut remotes = self.remotes.lock().unwrap_or_else(|p| p.into_inner());
                let store = match remotes.get(&r.store) {
                    Some(s) => s.clone(),
                    None => {
                        let s = self.build_remote(&r.store)?;
                        remotes.insert(r.store.clone(), s.clone());
                        s
                    }
                };
                Ok((store, StorePath::from(r.key.as_str())))
            }
        }
    }

    pub async fn head(&self, loc: &Location) -> Result<ObjectVersion, StorageError> {
        let (store, path) = self.store(loc)?;
        let meta = self
            .timed("head", loc, store.head(&path))
            .await
            .map_err(|e| map_store_error(&loc.to_string(), e))?;
        Ok(ObjectVersion {
            size: meta.size,
            last_modified: Some(meta.last_modified.into()),
            etag: meta.e_tag,
        })
    }

    pub async fn get_range(
        &self,
        loc: &Location,
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, StorageError> {
        let (store, path) = self.store(loc)?;
        self.timed("get_range", loc, store.get_range(&path, range))
            .await
            .map_err(|e| map_store_error(&loc.to_string(), e))
    }

    /// The whole object at `loc` (small objects: metadata documents, Zarr chunks).
    pub async fn get(&self, loc: &Location) -> Result<Bytes, StorageError> {
        let (store, path) = self.store(loc)?;
        let got = self
            .timed("get", loc, store.get(&path))
            .await
            .map_err(|e| map_store_error(&loc.to_string(), e))?;
        got.bytes()
            .await
            .map_err(|e| map_store_error(&loc.to_string(), e))
    }

    /// Bytes of `loc` at a known `version`: for a remote object whose copy is in the
    /// file cache, read locally (same bytes, no round trip); otherwise through the
    /// block cache.
    pub async fn get_range_at(
        &self,
        loc: &Location,
        version: &ObjectVersion,
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, StorageError> {
        if let Location::Remote(r) = loc
            && let Some(path) = self.file_cache.cached(&r.url(), version)
        {
            return self.get_range(&Location::Local(path), range).await;
        }
        self.read_cached(loc, version, range).await
    }

    /// Bytes of `loc` at `version` through the in-memory block cache: what readers over
    /// object storage use. Local files are read directly (the OS caches them).
    pub async fn read_cached(
        &self,
        loc: &Location,
        version: &ObjectVersion,
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, StorageError> {
        match loc {
            Location::Remote(r) => {
                let url = r.url();
                self.blocks
                    .read(&url, version, range, |r| self.get_range_of(loc, version, r))
                    .await
            }
            _ => self.get_range(loc, range).await,
        }
    }

    /// A range of `loc` as it is at `version`: asked with `If-Match` on its ETag, and the
    /// answer's ETag checked too (for servers that ignore the condition), so a changed
    /// object is an error, never bytes of another version.
    async fn get_range_of(
        &self,
        loc: &Location,
        version: &ObjectVersion,
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, StorageError> {
        let (store, path) = self.store(loc)?;
        let options = GetOptions {
            range: Some(range.into()),
            // A weak ETag never matches `If-Match` (RFC 9110): compared below instead.
            if_match: version.etag.clone().filter(|e| !e.starts_with("W/")),
            ..GetOptions::default()
        };
        let changed = |loc: &Location| {
            self.changed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(loc.to_string());
            self.changes
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            StorageError::Changed(loc.to_string())
        };
        let got = match self
            .timed("get_range", loc, store.get_opts(&path, options))
            .await
        {
            Ok(got) => got,
            Err(object_store::Error::Precondition { .. }) => return Err(changed(loc)),
            Err(e) => return Err(map_store_error(&loc.to_string(), e)),
        };
        if let (Some(want), Some(have)) = (&version.etag, &got.meta.e_tag)
            && want != have
        {
            return Err(changed(loc));
        }
        got.bytes()
            .await
            .map_err(|e| map_store_error(&loc.to_string(), e))
    }

    /// How many times reads have found an object changed, since the start.
    pub fn changes(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a read found `loc` changed since the last call (and forgets it).
    pub fn take_changed(&self, loc: &Location) -> bool {
        self.changed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&loc.to_string())
    }

    /// Brings `ranges` of `loc` into the block cache, concurrently (adjacent ones as
    /// one request): a reader about to read many chunks one by one then finds them
    /// all in memory. Local files need nothing.
    pub async fn prefetch(
        &self,
        loc: &Location,
        version: &ObjectVersion,
        mut ranges: Vec<std::ops::Range<u64>>,
    ) -> Result<(), StorageError> {
        if !loc.is_remote() || ranges.is_empty() {
            return Ok(());
        }
        ranges.sort_by_key(|r| r.start);
        let gap = self.config.block_bytes;
        let mut merged: Vec<std::ops::Range<u64>> = Vec::new();
        for r in ranges {
            match merged.last_mut() {
                Some(m) if r.start <= m.end.saturating_add(gap) => m.end = m.end.max(r.end),
                _ => merged.push(r),
            }
        }
        futures::stream::iter(merged)
            .map(|r| self.read_cached(loc, version, r))
            .buffer_unordered(self.config.max_concurrent_requests.max(1))
            .try_for_each(|_| async { Ok(()) })
            .await
    }

    /// Requests and bytes sent to object stores through `read_cached` so far.
    pub fn range_counters(&self) -> &RangeCounters {
        &self.blocks.counters
    }

    /// A local path holding the bytes of `loc` at `version`: the file itself when local,
    /// else a copy in the file cache.
    pub async fn local_file(
        &self,
        loc: &Location,
        version: &ObjectVersion,
    ) -> Result<PathBuf, StorageError> {
        match loc {
            Location::Local(p) => Ok(p.clone()),
            Location::Remote(r) => {
                let (store, path) = self.store(loc)?;
                self.file_cache.fetch(store, &path, &r.url(), version).await
            }
            Location::Collection(_) => Err(StorageError::InvalidLocation(loc.to_string())),
        }
    }

    /// Times a request to an object store (`datagate_object_store_seconds`); local
    /// files are not object-store requests and are not timed.
    async fn timed<T>(
        &self,
        op: &str,
        loc: &Location,
        request: impl std::future::Future<Output = T>,
    ) -> T {
        let Location::Remote(r) = loc else {
            return request.await;
        };
        let start = std::time::Instant::now();
        let out = request.await;
        let scheme = r.store.split("://").next().unwrap_or("other");
        self.metrics
            .object_store_latency(op, scheme, start.elapsed().as_secs_f64());
        out
    }

    /// Whether the store of `prefix` answers: one listing request (a single page of
    /// keys under the prefix), for readiness probes.
    pub async fn reachable(&self, prefix: &RemoteLocation) -> Result<(), StorageError> {
        let loc = Location::Remote(prefix.clone());
        let (store, path) = self.store(&loc)?;
        let prefix_path = (!prefix.key.is_empty()).then_some(path);
        self.timed(
            "list",
            &loc,
            store.list_with_delimiter(prefix_path.as_ref()),
        )
        .await
        .map(|_| ())
        .map_err(|e| map_store_error(&prefix.url(), e))
    }

    /// Every object under a remote prefix (`s3://bucket/dir/`).
    pub async fn list(&self, prefix: &RemoteLocation) -> Result<Vec<ListedObject>, StorageError> {
        let (store, path) = self.store(&Location::Remote(prefix.clone()))?;
        let prefix_path = (!prefix.key.is_empty()).then_some(path);
        let objects: Vec<object_store::ObjectMeta> = store
            .list(prefix_path.as_ref())
            .try_collect()
            .await
            .map_err(|e| map_store_error(&prefix.url(), e))?;
        Ok(objects
            .into_iter()
            .map(|m| ListedObject {
                location: prefix.with_key(m.location.to_string()),
                size: m.size,
            })
            .collect())
    }
}

/// An `*_ALLOW_HTTP` value read from the environment, as object_store parses booleans.
fn env_allows_http(value: Option<String>) -> bool {
    value.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "on" | "yes" | "y"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_http_from_the_environment_as_object_store_reads_booleans() {
        assert!(env_allows_http(Some("true".into())));
        assert!(env_allows_http(Some(" 1 ".into())));
        assert!(env_allows_http(Some("YES".into())));
        assert!(!env_allows_http(Some("false".into())));
        assert!(!env_allows_http(None));
    }

    #[tokio::test]
    async fn head_and_range() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.bin"), b"hello world").unwrap();
        let loc = Location::parse("a.bin", dir.path()).unwrap();
        let s = Storage::default();
        assert_eq!(s.head(&loc).await.unwrap().size, 11);
        assert_eq!(&s.get_range(&loc, 6..11).await.unwrap()[..], b"world");
        let missing = Location::parse("nope.bin", dir.path()).unwrap();
        assert!(matches!(
            s.head(&missing).await,
            Err(StorageError::NotFound(_))
        ));
        let v = s.head(&loc).await.unwrap();
        assert_eq!(
            s.local_file(&loc, &v).await.unwrap(),
            dir.path().join("a.bin")
        );
    }

    #[tokio::test]
    async fn unreachable_remote_is_a_clean_error() {
        let config = StorageConfig {
            timeout_secs: 2,
            connect_timeout_secs: 1,
            max_retries: 0,
            ..StorageConfig::default()
        };
        let s = Storage::new(config, Arc::new(Metrics::new()));
        // Port 9 (discard) on loopback: connection refused.
        let loc = Location::parse("http://127.0.0.1:9/x.nc", std::path::Path::new("/")).unwrap();
        let err = s.head(&loc).await.unwrap_err();
        assert!(
            matches!(err, StorageError::Backend { .. } | StorageError::Timeout(_)),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_inserted_store_serves_its_base() {
        use object_store::memory::InMemory;
        let s = Storage::default();
        let memory = Arc::new(InMemory::new());
        s.insert_store("memory://t", memory.clone());
        let path = StorePath::from("a.bin");
        memory
            .put(&path, b"hello world".to_vec().into())
            .await
            .unwrap();
        let loc = Location::Remote(RemoteLocation {
            store: "memory://t".into(),
            key: "a.bin".into(),
        });
        let v = s.head(&loc).await.unwrap();
        assert_eq!(v.size, 11);
        assert_eq!(
            &s.get_range_at(&loc, &v, 6..11).await.unwrap()[..],
            b"world"
        );
    }
}
