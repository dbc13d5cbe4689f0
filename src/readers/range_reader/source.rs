//! The bytes of one file for the pure-Rust readers, whose reads are synchronous: a
//! local file is read with `pread` on the calling thread; a remote object blocks the
//! calling thread (the blocking pool or rayon's) on the async storage and its block
//! cache.

use std::sync::{Arc, Mutex};

use hdf5_reader::storage::{Storage as ByteSource, StorageBuffer};

use crate::readers::ReadError;
use crate::storage::{Location, ObjectVersion, Storage, StorageError};

/// The bytes of one version of one object, for `netcdf-reader`'s synchronous reads:
/// each read blocks its (blocking-pool or rayon) thread on the async storage.
pub(super) struct RangeSource {
    pub(super) storage: Arc<Storage>,
    pub(super) location: Location,
    pub(super) version: ObjectVersion,
    pub(super) runtime: tokio::runtime::Handle,
    /// The open file, for a local location (not memory-mapped: a file truncated while
    /// mapped would kill the process; `pread` past its end is an error).
    pub(super) local: Option<std::fs::File>,
    /// The storage failure behind the reader's last error: the parser only sees an I/O
    /// error, the gateway must tell a 502/504 from a broken file.
    pub(super) failure: Mutex<Option<StorageError>>,
}

impl ByteSource for RangeSource {
    fn len(&self) -> u64 {
        self.version.size
    }

    fn read_range(&self, offset: u64, len: usize) -> hdf5_reader::error::Result<StorageBuffer> {
        // Lengths come from the file's own metadata: one past the end is damage, and
        // must not be allocated before the read fails.
        if offset.saturating_add(len as u64) > self.version.size {
            return Err(hdf5_reader::error::Error::UnexpectedEof {
                offset,
                needed: len as u64,
                available: self.version.size.saturating_sub(offset),
            });
        }
        if let Some(file) = &self.local {
            use std::os::unix::fs::FileExt;
            let mut buf = vec![0u8; len];
            file.read_exact_at(&mut buf, offset)?;
            return Ok(StorageBuffer::from_vec(buf));
        }
        let range = offset..offset.saturating_add(len as u64);
        let result = self.runtime.block_on(self.storage.read_cached(
            &self.location,
            &self.version,
            range,
        ));
        match result {
            Ok(bytes) if bytes.len() == len => {
                Ok(StorageBuffer::from_shared_owner(Arc::new(bytes), 0, len)?)
            }
            Ok(bytes) => Err(hdf5_reader::error::Error::UnexpectedEof {
                offset,
                needed: len as u64,
                available: bytes.len() as u64,
            }),
            Err(e) => {
                let message = e.to_string();
                *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                Err(std::io::Error::other(message).into())
            }
        }
    }
}

/// The same bytes for `hdf5-pure` (the HDF5 chunk index).
pub(super) struct PureSource(pub(super) Arc<RangeSource>);

impl hdf5_pure::Source for PureSource {
    fn len(&self) -> u64 {
        self.0.version.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), hdf5_pure::FormatError> {
        let bytes = self
            .0
            .read_range(offset, buf.len())
            .map_err(|e| hdf5_pure::FormatError::Source(e.to_string()))?;
        buf.copy_from_slice(&bytes);
        Ok(())
    }
}

impl RangeSource {
    /// A reader error, as a storage error when storage was the cause.
    pub(super) fn error(&self, e: impl std::fmt::Display + 'static) -> ReadError {
        let any: &dyn std::any::Any = &e;
        let gap = any
            .downcast_ref::<netcdf_reader::Error>()
            .is_some_and(super::feature_gap::is_feature_gap);
        match self
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            Some(storage) => ReadError::Storage(storage),
            // What netCDF-C may read instead (`Unsupported`); anything else is damage.
            None if gap => ReadError::Unsupported(e.to_string()),
            None => ReadError::Format {
                location: self.location.to_string(),
                message: e.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing the reader: a damaged HDF5 global heap gave a collection size
    /// of 0x45455254001000 bytes, allocated (and zeroed) before the read failed.
    #[tokio::test]
    async fn reads_past_the_end_fail_before_allocating() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("small.nc");
        std::fs::write(&path, b"0123456789").unwrap();
        let location = Location::Local(path.clone());
        let storage = Arc::new(Storage::new(
            Default::default(),
            Arc::new(crate::metrics::Metrics::new()),
        ));
        let source = RangeSource {
            version: storage.head(&location).await.unwrap(),
            storage,
            location,
            runtime: tokio::runtime::Handle::current(),
            local: Some(std::fs::File::open(&path).unwrap()),
            failure: Mutex::new(None),
        };
        assert!(source.read_range(0, 0x45455254001000).is_err());
        assert!(source.read_range(u64::MAX, 2).is_err());
        assert!(source.read_range(8, 3).is_err());
        assert_eq!(&source.read_range(8, 2).unwrap()[..], b"89");
    }
}
