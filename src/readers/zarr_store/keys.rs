//! Where the keys of a Zarr hierarchy come from: a store (a directory or an object
//! prefix, one object per key) or a kerchunk reference set (`kerchunk.rs`). Both give
//! values through the storage layer; zarrs sees them through `adapter.rs`.

use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::readers::ReadError;
use crate::storage::{Location, Storage, StorageError};

/// The values of a Zarr hierarchy's keys (`.zgroup`, `temp/.zarray`, `temp/0.0`).
#[async_trait]
pub trait KeySource: Send + Sync {
    /// The whole value of `key`; `None` when the key is absent (a never-written chunk).
    async fn get(&self, key: &str) -> Result<Option<Bytes>, ReadError>;

    /// Bytes `range` of the value of `key`.
    async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Option<Bytes>, ReadError>;

    /// The length of the value of `key`.
    async fn size(&self, key: &str) -> Result<Option<u64>, ReadError>;

    /// Every key with the length of its value (0 where finding it would cost a request
    /// per key): what finds the arrays of a hierarchy without consolidated metadata,
    /// and the stored chunks of an array.
    async fn keys(&self) -> Result<Vec<(String, u64)>, ReadError>;

    /// Every key, without sizes where they would cost requests.
    async fn names(&self) -> Result<Vec<String>, ReadError> {
        Ok(self.keys().await?.into_iter().map(|(k, _)| k).collect())
    }

    /// The dataset's location, for messages.
    fn location(&self) -> &Location;
}

/// A key as a relative path that stays inside its store: no empty, `.` or `..` parts.
pub fn checked_key(key: &str) -> Option<&str> {
    let ok = !key.is_empty()
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    ok.then_some(key)
}

/// A Zarr store: a local directory or an object prefix (`s3://b/ocean.zarr/`).
pub struct StoreKeys {
    root: Location,
    storage: Arc<Storage>,
}

impl StoreKeys {
    pub fn new(root: Location, storage: Arc<Storage>) -> StoreKeys {
        StoreKeys { root, storage }
    }

    fn location_of(&self, key: &str) -> Result<Location, ReadError> {
        let key = checked_key(key).ok_or_else(|| ReadError::Format {
            location: self.root.to_string(),
            message: format!("invalid key {key:?}"),
        })?;
        Ok(self.root.join(key))
    }
}

/// A missing object is an absent key; other storage errors are errors.
fn absent_is_none<T>(r: Result<T, StorageError>) -> Result<Option<T>, ReadError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StorageError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[async_trait]
impl KeySource for StoreKeys {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, ReadError> {
        absent_is_none(self.storage.get(&self.location_of(key)?).await)
    }

    async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Option<Bytes>, ReadError> {
        absent_is_none(self.storage.get_range(&self.location_of(key)?, range).await)
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, ReadError> {
        let version = absent_is_none(self.storage.head(&self.location_of(key)?).await)?;
        Ok(version.map(|v| v.size))
    }

    async fn keys(&self) -> Result<Vec<(String, u64)>, ReadError> {
        match &self.root {
            Location::Local(dir) => {
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || local_keys(&dir))
                    .await
                    .map_err(|e| ReadError::Internal(e.to_string()))
            }
            Location::Remote(prefix) => Ok(self
                .storage
                .list(prefix)
                .await?
                .into_iter()
                .filter_map(|o| {
                    let rest = o.location.key.strip_prefix(&prefix.key)?;
                    Some((rest.trim_start_matches('/').to_string(), o.size))
                })
                .collect()),
            Location::Collection(_) => Ok(Vec::new()),
        }
    }

    fn location(&self) -> &Location {
        &self.root
    }
}

/// The files under a local store as keys (`temp/0.0`) with their sizes; symbolic
/// links not followed.
fn local_keys(dir: &std::path::Path) -> Vec<(String, u64)> {
    walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e.path().strip_prefix(dir).ok()?;
            let parts: Option<Vec<&str>> =
                rel.components().map(|c| c.as_os_str().to_str()).collect();
            Some((parts?.join("/"), e.metadata().ok()?.len()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside() {
        assert_eq!(checked_key("temp/0.0"), Some("temp/0.0"));
        assert_eq!(checked_key(".zgroup"), Some(".zgroup"));
        assert_eq!(checked_key("../etc/passwd"), None);
        assert_eq!(checked_key("a//b"), None);
        assert_eq!(checked_key("/abs"), None);
        assert_eq!(checked_key(""), None);
    }

    #[tokio::test]
    async fn local_store_keys() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("t")).unwrap();
        std::fs::write(dir.path().join(".zgroup"), "{}").unwrap();
        std::fs::write(dir.path().join("t/0"), "abc").unwrap();
        let store = StoreKeys::new(
            Location::Local(dir.path().to_path_buf()),
            Arc::new(Storage::default()),
        );
        let mut keys = store.keys().await.unwrap();
        keys.sort();
        assert_eq!(
            keys,
            vec![(".zgroup".to_string(), 2), ("t/0".to_string(), 3)]
        );
        assert_eq!(&store.get("t/0").await.unwrap().unwrap()[..], b"abc");
        assert_eq!(store.get("t/1").await.unwrap(), None);
        assert_eq!(
            &store.get_range("t/0", 1..3).await.unwrap().unwrap()[..],
            b"bc"
        );
        assert_eq!(store.size("t/0").await.unwrap(), Some(3));
        assert!(store.get("../x").await.is_err());
    }
}
