//! Where a TIFF's bytes come from: ranges of the stored file through the block cache
//! (local or object storage), or a buffer in tests. Every range is checked against the
//! file size first, so a damaged offset or count is an error, never a huge read.

use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::super::error::ReadError;
use crate::storage::{Location, ObjectVersion, Storage};

#[async_trait]
pub(super) trait ByteSource: Send + Sync {
    /// Size of the whole file.
    fn size(&self) -> u64;

    /// Where the file is, for error messages.
    fn name(&self) -> String;

    /// The bytes of `range`, which the caller has checked lies within `size()`.
    async fn fetch(&self, range: Range<u64>) -> Result<Bytes, ReadError>;
}

impl dyn ByteSource + '_ {
    /// A format error naming this file.
    pub(super) fn damaged(&self, message: impl Into<String>) -> ReadError {
        ReadError::Format {
            location: self.name(),
            message: message.into(),
        }
    }

    /// `len` bytes from `offset`, or an error if they do not lie within the file.
    pub(super) async fn read(&self, offset: u64, len: u64) -> Result<Bytes, ReadError> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size() => self.fetch(offset..end).await,
            _ => Err(self.damaged(format!(
                "{len} bytes at offset {offset} lie past the end of the file ({} bytes)",
                self.size()
            ))),
        }
    }
}

/// A stored file, read through the storage layer's block cache.
pub(super) struct StoredFile {
    pub storage: Arc<Storage>,
    pub location: Location,
    pub version: ObjectVersion,
}

#[async_trait]
impl ByteSource for StoredFile {
    fn size(&self) -> u64 {
        self.version.size
    }

    fn name(&self) -> String {
        self.location.to_string()
    }

    async fn fetch(&self, range: Range<u64>) -> Result<Bytes, ReadError> {
        Ok(self
            .storage
            .read_cached(&self.location, &self.version, range)
            .await?)
    }
}

/// A file held in memory (tests, fuzzing).
#[cfg(test)]
pub(super) struct InMemory(pub Bytes);

#[cfg(test)]
#[async_trait]
impl ByteSource for InMemory {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }

    fn name(&self) -> String {
        "memory".into()
    }

    async fn fetch(&self, range: Range<u64>) -> Result<Bytes, ReadError> {
        Ok(self.0.slice(range.start as usize..range.end as usize))
    }
}
