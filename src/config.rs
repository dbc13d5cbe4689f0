//! The server configuration file (TOML): server settings, limits, caches, datasets;
//! every key can be overridden by a `DATAGATE_…` environment variable (`env.rs`).

mod auth;
pub mod env;

pub use auth::{AccessRule, AuthConfig, OidcConfig};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub limits: LimitsConfig,
    pub cache: CacheConfig,
    pub wms: WmsConfig,
    pub storage: crate::storage::StorageConfig,
    /// Which reader serves local and remote files, and its memory for decoded chunks.
    pub readers: crate::readers::ReadersConfig,
    /// Datasets named one by one, or by a glob.
    pub datasets: Vec<DatasetConfig>,
    /// Aggregations: many files served as one dataset.
    pub collections: Vec<CollectionConfig>,
    /// Directories served whole: every readable file, id = path relative to the root.
    pub roots: Vec<RootConfig>,
    /// OGC API EDR settings (named locations).
    pub edr: EdrConfig,
    /// Who may sign in: HTTP Basic users, OIDC issuers (`[auth]`, `[[auth.oidc]]`).
    pub auth: AuthConfig,
    /// Which datasets are restricted and to whom (`[[access]]`); the first matching
    /// rule applies, datasets no rule matches are public.
    pub access: Vec<AccessRule>,
    /// Directory relative paths are resolved against (the config file's directory).
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// Deprecated settings the file used (still applied): logged at start-up and
    /// reported by `datagate check`.
    #[serde(skip)]
    pub deprecations: Vec<String>,
}

/// Reader settings that were once `[storage]` keys: still read there (when `[readers]`
/// does not set them), with a deprecation warning.
const FORMER_STORAGE_KEYS: &[&str] = &[
    "local_reads",
    "remote_reads",
    "decoded_chunk_cache_bytes",
    "max_decoded_chunk_bytes",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub bind: String,
    /// The URL clients reach the server at, for absolute links (behind a proxy).
    pub public_url: Option<String>,
    pub request_timeout_secs: u64,
    pub max_request_body_bytes: usize,
    pub cors: bool,
    pub compression: bool,
    /// A connection must send a whole request head within this time (also the time an
    /// idle keep-alive connection is kept): slow or half-sent heads are dropped.
    pub header_timeout_secs: u64,
    /// Open connections at most; past it new connections wait in the listen queue.
    pub max_connections: usize,
    /// Threads that serve connections, each a single-threaded runtime (0: half the
    /// cores, at least one); each connection stays on one of them.
    pub connection_threads: usize,
    /// Longest request URL (path and query), in bytes: longer ones get a 414.
    pub max_url_bytes: usize,
    /// Peers whose `X-Forwarded-*`/`Forwarded` headers are believed (addresses or
    /// CIDR blocks); from anyone else those headers are removed.
    pub trusted_proxies: Vec<String>,
    /// After SIGTERM, `/readyz` fails at once but new requests are still served this
    /// long (seconds), so a balancer stops sending before the listener closes.
    pub drain_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".into(),
            public_url: None,
            request_timeout_secs: 300,
            max_request_body_bytes: 1 << 20,
            cors: true,
            compression: true,
            header_timeout_secs: 10,
            max_connections: 1024,
            connection_threads: 0,
            max_url_bytes: 16 << 10,
            trusted_proxies: Vec::new(),
            drain_secs: 0,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest data response, in bytes, before encoding (TDS's default is 500 MB).
    pub max_response_bytes: u64,
    /// Largest piece read from a file at once while streaming, in bytes.
    pub read_block_bytes: usize,
    /// Expensive requests running at once, per kind of work (data reads, map renders,
    /// geometry queries); more wait up to `admission_wait_ms`, then get a 503.
    pub concurrent_reads: usize,
    pub concurrent_renders: usize,
    pub concurrent_queries: usize,
    pub admission_wait_ms: u64,
    /// Geometry work one EDR query may do: cells tested × points or vertices tested
    /// against each (radius, area, corridor); decided before any test runs.
    pub max_geometry_work: u64,
    /// Values one EDR answer may hold (positions × times × levels × parameters):
    /// what the answer builds, not only what it reads.
    pub max_answer_values: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_response_bytes: 500_000_000,
            read_block_bytes: 4 << 20,
            concurrent_reads: 16,
            concurrent_renders: 8,
            concurrent_queries: 4,
            admission_wait_ms: 2_000,
            max_geometry_work: 50_000_000,
            max_answer_values: 10_000_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Open datasets (metadata + reader) kept in memory, at most this many...
    pub metadata_entries: u64,
    /// ...and at most this much memory: their metadata, plus for remote files the
    /// decoded-chunk cache each may fill (`readers.decoded_chunk_cache_bytes`).
    pub metadata_bytes: u64,
    /// Encoded single-chunk Zarr arrays (coordinates, which clients re-read).
    pub zarr_chunk_bytes: u64,
    /// Views each service derives from a dataset version (Zarr layouts, DAP2 schemas,
    /// EDR collections, DAP4 checksums): each such cache holds at most this much.
    pub derived_bytes: u64,
    /// Decoded (inflated) chunks of every file, shared by all protocols: a point time
    /// series over chunks already decoded costs no decompression.
    pub decoded_chunk_bytes: u64,
    /// Whole answers to repeated public requests for versioned documents (DAS, DDS,
    /// DMR, Zarr metadata...), replayed before routing for as long as a file's version
    /// is trusted (`storage.local_revalidate_ms`, `storage.revalidate_secs`); 0: none.
    pub response_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            metadata_entries: 10_000,
            metadata_bytes: 1 << 30,
            zarr_chunk_bytes: 128 << 20,
            derived_bytes: 64 << 20,
            decoded_chunk_bytes: 1 << 30,
            response_bytes: 32 << 20,
        }
    }
}

/// WMS settings: image size limit and the byte budgets of its caches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WmsConfig {
    /// Largest WIDTH and HEIGHT of a GetMap image, in pixels.
    pub max_width: u32,
    pub max_height: u32,
    /// Decoded 2-D slices kept for rendering, in bytes.
    pub slice_cache_bytes: u64,
    /// Rendered images (GetMap, tiles) kept, in bytes.
    pub image_cache_bytes: u64,
    /// Palette of the default style.
    pub default_palette: String,
    /// Layers one GetMap may draw (LAYERS=a,b,...).
    pub max_layers: usize,
    /// Memory all GetMaps being drawn at once may take (about 12 bytes a pixel);
    /// more wait up to `limits.admission_wait_ms`, then get a 503.
    pub render_memory_bytes: u64,
    /// Observation features one GetMap may draw, and observations (feature × time)
    /// it may read, over all its observation layers; counted before anything is read.
    pub max_map_features: usize,
    pub max_map_observations: usize,
}

impl Default for WmsConfig {
    fn default() -> Self {
        WmsConfig {
            max_width: 4096,
            max_height: 4096,
            slice_cache_bytes: 512 << 20,
            image_cache_bytes: 64 << 20,
            default_palette: "viridis".into(),
            max_layers: 16,
            render_memory_bytes: 384 << 20,
            max_map_features: 20_000,
            max_map_observations: 2_000_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetConfig {
    /// The id in URLs. With `glob`, a prefix put before each file's relative path.
    pub id: Option<String>,
    pub title: Option<String>,
    /// One file: a path (relative to the config file) or a `file://` URL.
    pub location: Option<String>,
    /// Many files: a glob (relative to the config file); ids are paths relative to the
    /// glob's fixed leading directory.
    pub glob: Option<String>,
}

/// An aggregation of the files matching `glob` into one dataset `id`. Each file is also
/// served alone as `{id}/{file path relative to the glob's leading directory}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionConfig {
    pub id: String,
    pub title: Option<String>,
    /// Files: a glob, local (relative to the config file) or `s3://bucket/prefix/*.nc`.
    pub glob: String,
    /// Join along this existing dimension, files ordered by its coordinate values.
    pub join_existing: Option<String>,
    /// Join along a new dimension (e.g. `time`) whose values are dates in the file names
    /// (`date_format`), or else each file's scalar coordinate of that name (a GRIB
    /// file's `time`, a GeoTIFF's `TIFFTAG_DATETIME`).
    pub join_new: Option<String>,
    /// The file-name pattern of `join_new`, with `%Y %m %d %H %M %S %j` (`sst_%Y%m%d.nc`).
    pub date_format: Option<String>,
    /// Units of the new coordinate (default `days since 1970-01-01 00:00:00`).
    pub units: Option<String>,
    /// Merge the variables of all files (same dimensions).
    #[serde(default)]
    pub union: bool,
    /// Observation (CF DSG) files of one featureType served as one collection: the
    /// union of their features (one file per float, glider, ship...).
    #[serde(default)]
    pub features: bool,
    /// For files holding several datasets (a GRIB file split by level type into
    /// `{file}/{part}`): the part of each file to aggregate (`surface`).
    pub part: Option<String>,
    /// Look for new or changed files this often (seconds); also `POST /datasets/rescan`.
    pub rescan_secs: Option<u64>,
}

/// How the files of a collection combine.
#[derive(Debug, Clone, PartialEq)]
pub enum Combine {
    JoinExisting {
        dim: String,
    },
    JoinNew {
        dim: String,
        /// `None`: values from each file's scalar coordinate `dim`.
        date_format: Option<String>,
        units: String,
    },
    Union,
    /// The union of the features of DSG files of one featureType.
    Features,
}

impl CollectionConfig {
    /// How the files combine, or why the settings are inconsistent.
    pub fn combine(&self) -> Result<Combine, String> {
        match (&self.join_existing, &self.join_new, self.union) {
            (None, None, false) if self.features => Ok(Combine::Features),
            _ if self.features => Err(format!(
                "collection {:?}: features = true combines files by their features; it goes \
                 with none of join_existing, join_new, union",
                self.id
            )),
            (Some(dim), None, false) => Ok(Combine::JoinExisting { dim: dim.clone() }),
            (None, Some(dim), false) => Ok(Combine::JoinNew {
                dim: dim.clone(),
                date_format: self.date_format.clone(),
                units: self
                    .units
                    .clone()
                    .unwrap_or_else(|| "days since 1970-01-01 00:00:00".into()),
            }),
            (None, None, true) => Ok(Combine::Union),
            _ => Err(format!(
                "collection {:?}: give exactly one of join_existing, join_new, union = true, \
                 features = true",
                self.id
            )),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootConfig {
    pub path: String,
    /// Put before each id found under this root (`archive/` → `archive/sst.nc`).
    #[serde(default)]
    pub prefix: String,
}

/// `[edr]`: settings of the OGC API EDR front-end.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct EdrConfig {
    /// Named points served by `/edr/collections/{id}/locations`.
    pub locations: Vec<EdrLocationConfig>,
}

/// One named location: `[[edr.locations]] id = "..." coords = "POINT(lon lat)"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdrLocationConfig {
    pub id: String,
    pub name: Option<String>,
    /// A WKT POINT in CRS84 (longitude latitude).
    pub coords: String,
    /// Collections (dataset ids) offering it; empty = every collection.
    #[serde(default)]
    pub collections: Vec<String>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let overrides = env::overrides(std::env::vars());
        let mut config =
            Config::parse_with(&text, &overrides).map_err(|message| ConfigError::Parse {
                path: path.display().to_string(),
                message,
            })?;
        config.base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(config)
    }

    /// The defaults with the `DATAGATE_…` variables of the environment applied (no
    /// configuration file).
    pub fn from_env() -> Result<Config, ConfigError> {
        let overrides = env::overrides(std::env::vars());
        let mut config = Config::parse_with("", &overrides).map_err(ConfigError::Invalid)?;
        config.base_dir = PathBuf::from(".");
        Ok(config)
    }

    /// `parse` with `overrides` (from `DATAGATE_…` variables) set over the file's keys;
    /// errors name the variables when there are any.
    pub fn parse_with(text: &str, overrides: &[env::Override]) -> Result<Config, String> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        env::apply(&mut table, overrides)?;
        Config::from_table(table).map_err(|e| {
            if overrides.is_empty() {
                return e.to_string();
            }
            let names: Vec<&str> = overrides.iter().map(|o| o.variable.as_str()).collect();
            format!("{e} (with environment variables {})", names.join(", "))
        })
    }

    /// Parses a configuration file's text, moving reader keys still given in
    /// `[storage]` to `[readers]` (recorded in `deprecations`).
    pub fn parse(text: &str) -> Result<Config, toml::de::Error> {
        Config::from_table(toml::from_str(text)?)
    }

    fn from_table(mut table: toml::Table) -> Result<Config, toml::de::Error> {
        let mut deprecations = Vec::new();
        if let Some(toml::Value::Table(storage)) = table.get_mut("storage") {
            let moved: Vec<(String, toml::Value)> = FORMER_STORAGE_KEYS
                .iter()
                .filter_map(|k| storage.remove(*k).map(|v| (k.to_string(), v)))
                .collect();
            if !moved.is_empty() {
                let readers = table
                    .entry("readers")
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                for (key, value) in moved {
                    let note = match readers {
                        toml::Value::Table(r) if r.contains_key(&key) => {
                            "ignored: readers.{key} is set too"
                        }
                        toml::Value::Table(r) => {
                            r.insert(key.clone(), value);
                            "used as readers.{key}"
                        }
                        _ => "ignored",
                    };
                    deprecations.push(format!(
                        "storage.{key} is deprecated, move it to [readers] ({})",
                        note.replace("{key}", &key)
                    ));
                }
            }
        }
        let mut config = Config::deserialize(table)?;
        config.deprecations = deprecations;
        Ok(config)
    }

    /// A configuration serving directories with no file.
    pub fn for_roots(paths: &[PathBuf]) -> Config {
        Config {
            roots: paths
                .iter()
                .map(|p| RootConfig {
                    path: p.display().to_string(),
                    prefix: String::new(),
                })
                .collect(),
            base_dir: PathBuf::from("."),
            ..Config::default()
        }
    }

    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server
            .bind
            .parse()
            .map_err(|e| ConfigError::Invalid(format!("server.bind {:?}: {e}", self.server.bind)))
    }

    /// Problems in the settings themselves (datasets are checked by the catalog).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Err(e) = self.bind_addr() {
            out.push(e.to_string());
        }
        if let Some(url) = &self.server.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            out.push(format!(
                "server.public_url {url:?} must start with http:// or https://"
            ));
        }
        if self.limits.read_block_bytes == 0 {
            out.push("limits.read_block_bytes must be positive".into());
        }
        out.extend(self.access_problems());
        for c in &self.collections {
            if let Err(e) = c.combine() {
                out.push(e);
            }
            if !valid_id(&c.id) {
                out.push(format!("collection: invalid id {:?}", c.id));
            }
        }
        for (i, d) in self.datasets.iter().enumerate() {
            match (&d.location, &d.glob) {
                (Some(_), Some(_)) => {
                    out.push(format!("datasets[{i}]: give location or glob, not both"))
                }
                (None, None) => out.push(format!("datasets[{i}]: needs location or glob")),
                (Some(_), None) if d.id.is_none() => {
                    out.push(format!("datasets[{i}]: needs an id"))
                }
                _ => {}
            }
            if let Some(id) = &d.id
                && !valid_id(id)
            {
                out.push(format!("datasets[{i}]: invalid id {id:?}"));
            }
        }
        out
    }
}

impl Config {
    /// Problems in `[auth]` and `[[access]]`: any stops the server (a rule that cannot
    /// be read must not leave its datasets open).
    fn access_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, r) in self.access.iter().enumerate() {
            if let Err(e) = globset::Glob::new(&r.datasets) {
                out.push(format!("access[{i}]: datasets = {:?}: {e}", r.datasets));
            }
            for a in &r.allow {
                let ok = a == "authenticated"
                    || a.strip_prefix("user:").is_some_and(|n| !n.is_empty())
                    || a.strip_prefix("group:").is_some_and(|n| !n.is_empty());
                if !ok {
                    out.push(format!(
                        "access[{i}]: allow {a:?}: write user:NAME, group:NAME or authenticated"
                    ));
                }
            }
        }
        for (key, file) in [
            ("users_file", &self.auth.users_file),
            ("groups_file", &self.auth.groups_file),
        ] {
            if let Some(f) = file
                && let Err(e) = std::fs::metadata(self.base_dir.join(f))
            {
                out.push(format!("auth.{key} {f:?}: {e}"));
            }
        }
        for o in &self.auth.oidc {
            if !(o.issuer.starts_with("https://") || o.issuer.starts_with("http://")) {
                out.push(format!("auth.oidc: issuer {:?} must be a URL", o.issuer));
            }
            if o.audience.is_empty() {
                out.push(format!("auth.oidc {:?}: audience is empty", o.issuer));
            }
        }
        out
    }
}

/// Ids are URL path segments joined by `/`: no empty, `.` or `..` segments.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('/')
        && id
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && !seg.contains('\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_config_is_valid_and_holds_the_defaults() {
        let c = Config::parse(include_str!("../config/datagate.toml")).unwrap();
        assert!(c.deprecations.is_empty(), "{:?}", c.deprecations);
        let d = crate::storage::StorageConfig::default();
        assert_eq!(c.storage.block_bytes, d.block_bytes);
        assert_eq!(c.storage.block_cache_bytes, d.block_cache_bytes);
        assert_eq!(c.readers, crate::readers::ReadersConfig::default());
        let cache = CacheConfig::default();
        assert_eq!(c.cache.metadata_bytes, cache.metadata_bytes);
        assert_eq!(c.cache.zarr_chunk_bytes, cache.zarr_chunk_bytes);
        assert_eq!(c.cache.derived_bytes, cache.derived_bytes);
        let (server, s) = (ServerConfig::default(), &c.server);
        assert_eq!(
            (s.header_timeout_secs, s.max_connections, s.max_url_bytes),
            (
                server.header_timeout_secs,
                server.max_connections,
                server.max_url_bytes
            )
        );
        let (limits, l) = (LimitsConfig::default(), &c.limits);
        assert_eq!(
            (
                l.concurrent_reads,
                l.concurrent_renders,
                l.concurrent_queries
            ),
            (
                limits.concurrent_reads,
                limits.concurrent_renders,
                limits.concurrent_queries
            )
        );
        assert_eq!(
            (
                l.admission_wait_ms,
                l.max_geometry_work,
                l.max_answer_values
            ),
            (
                limits.admission_wait_ms,
                limits.max_geometry_work,
                limits.max_answer_values
            )
        );
        let wms = WmsConfig::default();
        assert_eq!(
            (c.wms.max_layers, c.wms.render_memory_bytes, c.wms.max_width),
            (wms.max_layers, wms.render_memory_bytes, wms.max_width)
        );
    }

    #[test]
    fn parses_and_reports() {
        let c: Config = toml::from_str(
            r#"
            [server]
            bind = "0.0.0.0:9000"
            [limits]
            max_response_bytes = 1000
            [[datasets]]
            id = "sst"
            location = "a.nc"
            [[datasets]]
            glob = "daily/*.nc"
            [[datasets]]
            title = "nothing"
            [[roots]]
            path = "/data"
            "#,
        )
        .unwrap();
        assert_eq!(c.limits.max_response_bytes, 1000);
        assert_eq!(c.bind_addr().unwrap().port(), 9000);
        let problems = c.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(toml::from_str::<Config>("[server]\nbnd = 1").is_err());
    }

    #[test]
    fn reader_keys_in_storage_still_work_with_a_warning() {
        use crate::readers::{LocalReads, RemoteReads};
        let c = Config::parse(
            r#"
            [storage]
            local_reads = "native"
            max_decoded_chunk_bytes = 1000
            block_bytes = 4096
            [readers]
            max_decoded_chunk_bytes = 2000
            "#,
        )
        .unwrap();
        assert_eq!(c.readers.local_reads, LocalReads::Native);
        assert_eq!(c.readers.max_decoded_chunk_bytes, 2000);
        assert_eq!(c.readers.remote_reads, RemoteReads::Ranges);
        assert_eq!(c.storage.block_bytes, 4096);
        assert_eq!(c.deprecations.len(), 2, "{:?}", c.deprecations);
        assert!(c.deprecations[0].contains("storage.local_reads"));
        assert!(c.deprecations[1].contains("ignored"));
        assert!(Config::parse("[readers]\nlocal_reads = \"native\"").is_ok());
        assert!(Config::parse("[readers]\nblock_bytes = 1").is_err());
        assert!(Config::parse("[storage]\nlocal_read = \"native\"").is_err());
    }

    #[test]
    fn environment_variables_override_the_file() {
        let vars = |list: &[(&str, &str)]| {
            env::overrides(list.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        };
        let text =
            "[server]\nbind = \"127.0.0.1:1\"\ncors = false\n[storage]\nrevalidate_secs = 5\n";
        let c = Config::parse_with(
            text,
            &vars(&[
                ("DATAGATE_SERVER__BIND", "0.0.0.0:8080"),
                ("DATAGATE_STORAGE__REVALIDATE_SECS", "2"),
                ("DATAGATE_STORAGE__S3__ENDPOINT", "http://minio:9000"),
                ("DATAGATE_STORAGE__LOCAL_READS", "native"),
                ("DATAGATE_ROOTS", "[{path = \"s3://b/p/\"}]"),
            ]),
        )
        .unwrap();
        assert_eq!(c.server.bind, "0.0.0.0:8080");
        assert!(!c.server.cors, "keys not overridden keep the file's value");
        assert_eq!(c.storage.revalidate_secs, 2);
        assert_eq!(c.storage.s3.endpoint.as_deref(), Some("http://minio:9000"));
        assert_eq!(c.readers.local_reads, crate::readers::LocalReads::Native);
        assert_eq!(c.deprecations.len(), 1);
        assert_eq!(c.roots[0].path, "s3://b/p/");
        // A misspelt key is refused, naming the variables.
        let e = Config::parse_with("", &vars(&[("DATAGATE_SERVER__BND", "x")])).unwrap_err();
        assert!(
            e.contains("bnd") && e.contains("DATAGATE_SERVER__BND"),
            "{e}"
        );
        // A wrong type too.
        assert!(Config::parse_with("", &vars(&[("DATAGATE_SERVER__CORS", "maybe")])).is_err());
    }

    #[test]
    fn ids() {
        assert!(valid_id("sst/2023/a.nc"));
        assert!(!valid_id("../etc"));
        assert!(!valid_id("a//b"));
        assert!(!valid_id("/abs"));
    }

    #[test]
    fn features_collections_take_no_join() {
        let c = Config::parse("[[collections]]\nid = \"argo\"\nglob = \"a/*.nc\"\nfeatures = true")
            .unwrap();
        assert_eq!(c.collections[0].combine(), Ok(Combine::Features));
        let e = Config::parse(
            "[[collections]]\nid = \"argo\"\nglob = \"a/*.nc\"\nfeatures = true\nunion = true",
        )
        .map(|c| c.collections[0].combine());
        assert!(matches!(e, Err(_) | Ok(Err(_))), "{e:?}");
    }
}
