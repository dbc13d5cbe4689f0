//! Storage settings: object-store clients, revalidation, the local file cache. How
//! readers use the bytes is configured in `[readers]` (`readers::ReadersConfig`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// How long a remote object's size/ETag is trusted before it is checked again.
    pub revalidate_secs: u64,
    /// How long a local file's size and modification time are trusted before the next
    /// `stat` (0: on every request).
    pub local_revalidate_ms: u64,
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
    /// Remote bytes are read in aligned blocks of this size (the unit of caching and of
    /// range requests: larger blocks mean fewer requests and more bytes per request).
    pub block_bytes: u64,
    /// Memory for cached remote blocks, shared by every dataset.
    pub block_cache_bytes: u64,
    /// Range requests one read may have in flight.
    pub max_concurrent_requests: usize,
    pub s3: S3Config,
    pub gcs: GcsConfig,
    pub azure: AzureConfig,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            revalidate_secs: 10,
            local_revalidate_ms: 1000,
            timeout_secs: 30,
            connect_timeout_secs: 5,
            max_retries: 2,
            file_cache_dir: None,
            file_cache_bytes: 10 << 30,
            block_bytes: 512 << 10,
            block_cache_bytes: 256 << 20,
            max_concurrent_requests: 8,
            s3: S3Config::default(),
            gcs: GcsConfig::default(),
            azure: AzureConfig::default(),
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
    /// Allow `http://` endpoints (also allowed by `AWS_ALLOW_HTTP=true`).
    pub allow_http: bool,
}

/// Settings for `gs://` locations. Unset values come from the standard Google
/// environment variables (`GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_APPLICATION_CREDENTIALS`...).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct GcsConfig {
    /// Another endpoint than Google's (an emulator, a proxy).
    pub base_url: Option<String>,
    /// A service account key file.
    pub service_account_path: Option<String>,
    /// Unsigned requests, for public buckets.
    pub anonymous: bool,
}

/// Settings for `az://container/key` locations (Azure Blob Storage). Unset values come
/// from the standard `AZURE_STORAGE_*` environment variables.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AzureConfig {
    pub account: Option<String>,
    pub access_key: Option<String>,
    /// Another endpoint than Azure's (`http://127.0.0.1:10000/devstoreaccount1`).
    pub endpoint: Option<String>,
    /// Use the Azurite emulator on loopback with its well-known account.
    pub use_emulator: bool,
    /// Unsigned requests, for public containers.
    pub anonymous: bool,
    /// Allow `http://` endpoints.
    pub allow_http: bool,
}
