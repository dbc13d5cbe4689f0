//! Dataset locations: local paths, `s3://bucket/key`, `gs://bucket/key`,
//! `az://container/key` and `http(s)://` URLs.

use std::path::{Path, PathBuf};

use super::error::StorageError;

/// An object in a remote store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemoteLocation {
    /// The store: `s3://bucket` or `https://host:port`.
    pub store: String,
    /// The key within the store (no leading `/`).
    pub key: String,
}

impl RemoteLocation {
    pub fn url(&self) -> String {
        format!("{}/{}", self.store, self.key)
    }

    /// The same store, another key.
    pub fn with_key(&self, key: impl Into<String>) -> RemoteLocation {
        RemoteLocation {
            store: self.store.clone(),
            key: key.into(),
        }
    }
}

/// A dataset's location.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// A file on the local file system (absolute path).
    Local(PathBuf),
    /// An object in S3 or behind HTTP.
    Remote(RemoteLocation),
    /// A dataset datagate composes from others (an aggregation): no bytes of its own.
    Collection(String),
}

impl Location {
    /// Parses a configured location: a plain path (relative to `base`), a `file://`,
    /// `s3://bucket/key`, `http://` or `https://` URL.
    pub fn parse(s: &str, base: &Path) -> Result<Location, StorageError> {
        if let Some(rest) = s.strip_prefix("file://") {
            return Ok(Location::Local(absolute(Path::new(rest))));
        }
        // Bucket stores: S3, Google Cloud Storage, Azure Blob Storage (a container).
        for scheme in ["s3://", "gs://", "az://"] {
            if let Some(rest) = s.strip_prefix(scheme) {
                let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(StorageError::InvalidLocation(format!("{s}: no bucket")));
                }
                return Ok(Location::Remote(RemoteLocation {
                    store: format!("{scheme}{bucket}"),
                    key: key.to_string(),
                }));
            }
        }
        for scheme in ["http://", "https://"] {
            if let Some(rest) = s.strip_prefix(scheme) {
                let (host, key) = rest.split_once('/').unwrap_or((rest, ""));
                if host.is_empty() {
                    return Err(StorageError::InvalidLocation(format!("{s}: no host")));
                }
                return Ok(Location::Remote(RemoteLocation {
                    store: format!("{scheme}{host}"),
                    key: key.to_string(),
                }));
            }
        }
        if s.contains("://") {
            return Err(StorageError::InvalidLocation(format!(
                "{s}: supported are paths, file://, s3://, gs://, az://, http:// and https://"
            )));
        }
        Ok(Location::Local(absolute(&base.join(s))))
    }

    /// A path the C libraries can open, when the bytes are local.
    pub fn local_path(&self) -> Option<&Path> {
        match self {
            Location::Local(p) => Some(p),
            Location::Remote(_) | Location::Collection(_) => None,
        }
    }

    pub fn is_remote(&self) -> bool {
        matches!(self, Location::Remote(_))
    }

    /// Whether the location names a directory or object prefix rather than a file: a
    /// local directory, or a key ending in `/` (or a bucket's root).
    pub fn is_directory(&self) -> bool {
        match self {
            Location::Local(p) => p.is_dir(),
            Location::Remote(r) => r.key.ends_with('/') || r.key.is_empty(),
            Location::Collection(_) => false,
        }
    }

    /// The location of `name` (a relative path with `/` separators) inside this
    /// directory or prefix.
    pub fn join(&self, name: &str) -> Location {
        match self {
            Location::Local(p) => Location::Local(p.join(name)),
            Location::Remote(r) => {
                let sep = if r.key.is_empty() || r.key.ends_with('/') {
                    ""
                } else {
                    "/"
                };
                Location::Remote(r.with_key(format!("{}{sep}{name}", r.key)))
            }
            Location::Collection(id) => Location::Collection(format!("{id}/{name}")),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Local(p) => write!(f, "file://{}", p.display()),
            Location::Remote(r) => write!(f, "{}", r.url()),
            Location::Collection(id) => write!(f, "collection:{id}"),
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let base = Path::new("/data");
        assert_eq!(
            Location::parse("a/b.nc", base).unwrap(),
            Location::Local(PathBuf::from("/data/a/b.nc"))
        );
        assert_eq!(
            Location::parse("file:///x/y.nc", base).unwrap(),
            Location::Local(PathBuf::from("/x/y.nc"))
        );
        let s3 = Location::parse("s3://bucket/dir/f.nc", base).unwrap();
        assert_eq!(s3.to_string(), "s3://bucket/dir/f.nc");
        let Location::Remote(r) = &s3 else { panic!() };
        assert_eq!(
            (r.store.as_str(), r.key.as_str()),
            ("s3://bucket", "dir/f.nc")
        );
        let http = Location::parse("https://host:8443/a/f.nc", base).unwrap();
        assert_eq!(http.to_string(), "https://host:8443/a/f.nc");
        assert!(Location::parse("s3:///key", base).is_err());
        let gs = Location::parse("gs://b/k/f.nc", base).unwrap();
        assert_eq!(gs.to_string(), "gs://b/k/f.nc");
        let Location::Remote(r) = Location::parse("az://container/f.nc", base).unwrap() else {
            panic!()
        };
        assert_eq!(
            (r.store.as_str(), r.key.as_str()),
            ("az://container", "f.nc")
        );
        assert!(Location::parse("gopher://x/y", base).is_err());
    }
}
