//! zarrs' view of a `KeySource`: the read-only storage its arrays decode chunks from,
//! so zarrs never touches storage itself (every byte goes through datagate's storage
//! layer, its credentials, retries and block cache). zarrs' synchronous API is used, on
//! the blocking pool (`read.rs`): decoding is CPU work that must not stall the async
//! executor, and zarrs spreads it over cores. Each key read waits for the async source
//! on the runtime it was opened in.

use std::future::Future;
use std::sync::Arc;

use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator};
use zarrs::storage::{
    MaybeBytes, MaybeBytesIterator, ReadableStorageTraits, StorageError, StoreKey,
};

use super::keys::KeySource;
use crate::readers::ReadError;

pub struct ZarrsStorage {
    source: Arc<dyn KeySource>,
    runtime: tokio::runtime::Handle,
}

impl ZarrsStorage {
    /// An adapter waiting on the current runtime (call from async code).
    pub fn new(source: Arc<dyn KeySource>) -> ZarrsStorage {
        ZarrsStorage {
            source,
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// Runs a read of the source to completion. Called by zarrs on a blocking-pool or
    /// rayon thread, never on an executor thread.
    fn wait<T>(&self, read: impl Future<Output = Result<T, ReadError>>) -> Result<T, StorageError> {
        self.runtime
            .block_on(read)
            .map_err(|e| StorageError::Other(e.to_string()))
    }
}

impl ReadableStorageTraits for ZarrsStorage {
    fn get(&self, key: &StoreKey) -> Result<MaybeBytes, StorageError> {
        self.wait(self.source.get(key.as_str()))
    }

    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        let ranges: Vec<ByteRange> = byte_ranges.collect();
        // Ranges from the end (a shard's index) need the value's length.
        let open_ended = ranges
            .iter()
            .any(|r| !matches!(r, ByteRange::FromStart(_, Some(_))));
        let size = if open_ended {
            match self.wait(self.source.size(key.as_str()))? {
                Some(size) => size,
                None => return Ok(None),
            }
        } else {
            u64::MAX
        };
        let mut parts = Vec::with_capacity(ranges.len());
        for r in ranges {
            match self.wait(self.source.get_range(key.as_str(), r.to_range(size)))? {
                Some(bytes) => parts.push(Ok(bytes)),
                None => return Ok(None),
            }
        }
        Ok(Some(Box::new(parts.into_iter())))
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        self.wait(self.source.size(key.as_str()))
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}
