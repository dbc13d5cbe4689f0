//! Recognising file formats by their first bytes, without a C library.

use serde::Serialize;

use super::ReadError;
use crate::storage::{Location, Storage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FileFormat {
    /// NetCDF classic (version 1), 64-bit offset (2) or CDF-5 (5).
    NetCdf3 { version: u8 },
    /// HDF5, which includes NetCDF-4.
    Hdf5,
}

const HDF5_MAGIC: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

impl FileFormat {
    pub fn from_magic(head: &[u8]) -> Option<FileFormat> {
        if head.len() >= 4 && &head[..3] == b"CDF" && matches!(head[3], 1 | 2 | 5) {
            return Some(FileFormat::NetCdf3 { version: head[3] });
        }
        if head.len() >= 8 && &head[..8] == HDF5_MAGIC {
            return Some(FileFormat::Hdf5);
        }
        None
    }

    /// Reads the first bytes of a location and recognises the format. HDF5 superblocks
    /// may also start at 512, 1024, ... (a user block); only offset 0 is checked.
    pub async fn sniff(loc: &Location, storage: &Storage) -> Result<FileFormat, ReadError> {
        let version = storage.head(loc).await?;
        Self::sniff_at(loc, &version, storage).await
    }

    /// `sniff` for a known version (through the block cache for remote objects: the
    /// first block is the metadata's start too).
    pub async fn sniff_at(
        loc: &Location,
        version: &crate::storage::ObjectVersion,
        storage: &Storage,
    ) -> Result<FileFormat, ReadError> {
        if version.size < 8 {
            return Err(ReadError::Format {
                location: loc.to_string(),
                message: "file too short".into(),
            });
        }
        let head = storage.read_cached(loc, version, 0..8).await?;
        FileFormat::from_magic(&head).ok_or_else(|| ReadError::Format {
            location: loc.to_string(),
            message: "not a NetCDF or HDF5 file".into(),
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            FileFormat::NetCdf3 { version: 1 } => "netcdf3-classic",
            FileFormat::NetCdf3 { version: 2 } => "netcdf3-64bit-offset",
            FileFormat::NetCdf3 { .. } => "netcdf3-cdf5",
            FileFormat::Hdf5 => "netcdf4-hdf5",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic() {
        assert_eq!(
            FileFormat::from_magic(b"CDF\x01...."),
            Some(FileFormat::NetCdf3 { version: 1 })
        );
        assert_eq!(
            FileFormat::from_magic(b"CDF\x05"),
            Some(FileFormat::NetCdf3 { version: 5 })
        );
        assert_eq!(FileFormat::from_magic(HDF5_MAGIC), Some(FileFormat::Hdf5));
        assert_eq!(FileFormat::from_magic(b"CDF\x03"), None);
        assert_eq!(FileFormat::from_magic(b"GRIB"), None);
    }
}
