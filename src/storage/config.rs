//! Storage settings: object-store clients, revalidation, the local file cache.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// How long a remote object's size/ETag is trusted before it is checked again
    /// (local files are checked on every request).
    pub revalidate_secs: u64,
    /// Per-request timeout for object-store requests.
    pub timeout_secs: u64,
    pub connect_timeout_secs: u64,
    /// Retries of failed object-store requests (with exponential backoff).
    pub max_retries: usize,
    /// Where remote files the C library needs as a path are kept (default: the system
    /// temporary directory's `datagate-file-cache`).
    pub file_cache_dir: Option<String>,
    /// Bytes on disk the file cache may use; least recently used files go first.
    pub file_cache_bytes: u64,
    pub s3: S3Config,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            revalidate_secs: 10,
            timeout_secs: 30,
            connect_timeout_secs: 5,
            max_retries: 2,
            file_cache_dir: None,
            file_cache_bytes: 10 << 30,
            s3: S3Config::default(),
        }
    }
}

/// Settings for `s3://` locations. Unset values come from the standard AWS environment
/// variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
/// `AWS_ENDPOINT_URL`, ...).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    /// An S3-compatible endpoint (MinIO, Ceph, moto...): path-style requests are used.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// Unsigned requests, for public buckets.
    pub anonymous: bool,
    /// Allow `http://` endpoints.
    pub allow_http: bool,
}
