//! Where bytes live. Locations are local paths today; the `object_store` seam lets S3 and
//! HTTP come in without touching readers' callers or protocols.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::{ObjectStoreExt, path::Path as StorePath};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("storage error at {location}: {message}")]
    Backend { location: String, message: String },
    #[error("invalid location {0:?}")]
    InvalidLocation(String),
}

/// A dataset's location.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// A file on the local file system (absolute path).
    Local(PathBuf),
}

impl Location {
    /// Parses a configured location: a plain path (relative to `base`) or `file://` URL.
    pub fn parse(s: &str, base: &Path) -> Result<Location, StorageError> {
        let path = if let Some(rest) = s.strip_prefix("file://") {
            PathBuf::from(rest)
        } else if s.contains("://") {
            return Err(StorageError::InvalidLocation(format!(
                "{s}: only local paths and file:// URLs are supported so far"
            )));
        } else {
            base.join(s)
        };
        Ok(Location::Local(absolute(&path)))
    }

    /// A path the C libraries can open, when the bytes are local.
    pub fn local_path(&self) -> Option<&Path> {
        match self {
            Location::Local(p) => Some(p),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Local(p) => write!(f, "file://{}", p.display()),
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Size and version of an object: what cache keys are made of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectVersion {
    pub size: u64,
    pub last_modified: Option<SystemTime>,
    pub etag: Option<String>,
}

/// Access to locations through `object_store`.
#[derive(Debug, Clone)]
pub struct Storage {
    local: Arc<LocalFileSystem>,
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            local: Arc::new(LocalFileSystem::new()),
        }
    }
}

impl Storage {
    fn store_path(&self, loc: &Location) -> Result<StorePath, StorageError> {
        match loc {
            Location::Local(p) => StorePath::from_absolute_path(p)
                .map_err(|e| StorageError::InvalidLocation(format!("{}: {e}", p.display()))),
        }
    }

    fn map_err(loc: &Location, e: object_store::Error) -> StorageError {
        match e {
            object_store::Error::NotFound { .. } => StorageError::NotFound(loc.to_string()),
            other => StorageError::Backend {
                location: loc.to_string(),
                message: other.to_string(),
            },
        }
    }

    pub async fn head(&self, loc: &Location) -> Result<ObjectVersion, StorageError> {
        let path = self.store_path(loc)?;
        let meta = self
            .local
            .head(&path)
            .await
            .map_err(|e| Self::map_err(loc, e))?;
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
        let path = self.store_path(loc)?;
        self.local
            .get_range(&path, range)
            .await
            .map_err(|e| Self::map_err(loc, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(Location::parse("s3://b/k", dir.path()).is_err());
    }
}
