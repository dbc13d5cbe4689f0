//! Reader settings (the `[readers]` section): which reader serves local and remote
//! files, and the range reader's memory for decoded chunks.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReadersConfig {
    /// How local NetCDF/HDF5 files are read: `native` (the pure-Rust range reader, on
    /// every core; netCDF-C for what it cannot read), or `netcdf-c` (the C library, one
    /// call at a time in the process).
    pub local_reads: LocalReads,
    /// How remote NetCDF/HDF5 files are read: `ranges` (byte-range requests through the
    /// pure-Rust reader, no download) or `file-cache` (whole file copied to the file
    /// cache, read by netCDF-C). Files the range reader cannot open use the file cache.
    pub remote_reads: RemoteReads,
    /// Memory for decoded chunks of each open remote NetCDF-4 file, shared by every
    /// protocol reading it.
    pub decoded_chunk_cache_bytes: usize,
    /// Largest stored chunk the range reader decodes in memory; a variable with larger
    /// chunks is read by netCDF-C from the file cache instead. Also the largest GRIB
    /// field (as ecCodes' 8-byte values) and GeoTIFF block decoded; larger ones are
    /// refused.
    pub max_decoded_chunk_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LocalReads {
    NetcdfC,
    #[default]
    Native,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RemoteReads {
    #[default]
    Ranges,
    FileCache,
}

impl Default for ReadersConfig {
    fn default() -> Self {
        ReadersConfig {
            local_reads: LocalReads::Native,
            remote_reads: RemoteReads::Ranges,
            decoded_chunk_cache_bytes: 16 << 20,
            max_decoded_chunk_bytes: 256 << 20,
        }
    }
}
