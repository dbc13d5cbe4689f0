//! zarrs' view of a `KeySource`: the read-only async storage its arrays decode chunks
//! from, so zarrs never touches storage itself (every byte goes through datagate's
//! storage layer, its credentials, retries and block cache).

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator};
use zarrs::storage::{
    AsyncMaybeBytesIterator, AsyncReadableStorageTraits, MaybeBytes, StorageError, StoreKey,
};

use super::keys::KeySource;

pub struct ZarrsStorage {
    source: Arc<dyn KeySource>,
}

impl ZarrsStorage {
    pub fn new(source: Arc<dyn KeySource>) -> ZarrsStorage {
        ZarrsStorage { source }
    }
}

fn other(e: crate::readers::ReadError) -> StorageError {
    StorageError::Other(e.to_string())
}

#[async_trait]
impl AsyncReadableStorageTraits for ZarrsStorage {
    async fn get(&self, key: &StoreKey) -> Result<MaybeBytes, StorageError> {
        self.source.get(key.as_str()).await.map_err(other)
    }

    async fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<AsyncMaybeBytesIterator<'a>, StorageError> {
        let ranges: Vec<ByteRange> = byte_ranges.collect();
        // Ranges from the end (a shard's index) need the value's length.
        let open_ended = ranges
            .iter()
            .any(|r| !matches!(r, ByteRange::FromStart(_, Some(_))));
        let size = if open_ended {
            match self.source.size(key.as_str()).await.map_err(other)? {
                Some(size) => size,
                None => return Ok(None),
            }
        } else {
            u64::MAX
        };
        let mut parts = Vec::with_capacity(ranges.len());
        for r in ranges {
            let range = r.to_range(size);
            match self.source.get_range(key.as_str(), range).await {
                Ok(Some(bytes)) => parts.push(Ok(bytes)),
                Ok(None) => return Ok(None),
                Err(e) => parts.push(Err(other(e))),
            }
        }
        Ok(Some(futures::stream::iter(parts).boxed()))
    }

    async fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        self.source.size(key.as_str()).await.map_err(other)
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}
