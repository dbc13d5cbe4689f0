//! Byte ranges of remote objects, read in aligned blocks and kept in memory.
//!
//! Readers over object storage ask for many small ranges (HDF5 metadata, B-tree nodes)
//! and for chunks that usually lie next to each other in the file. Reading whole aligned
//! blocks turns the first into a few requests and lets neighbouring chunks share one;
//! missing blocks that are adjacent are fetched as one request (coalescing), separate
//! runs concurrently. Blocks are keyed by the object's URL and version, so a changed
//! object is never served from old blocks.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt};

use super::error::StorageError;
use super::version::ObjectVersion;
use crate::metrics::Metrics;

#[derive(Clone, PartialEq, Eq, Hash)]
struct BlockKey {
    url: Arc<str>,
    version: Arc<ObjectVersion>,
    /// Block size: small reads use smaller blocks (pages), see `read`.
    size: u64,
    block: u64,
}

/// Counters of what reading through blocks cost: requests sent and bytes received.
#[derive(Debug, Default)]
pub struct RangeCounters {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
}

pub struct BlockCache {
    cache: moka::future::Cache<BlockKey, Bytes>,
    block_bytes: u64,
    /// Pages: the blocks of small reads (HDF5 B-tree nodes, headers), which lie all over
    /// a file and need not bring a whole block each.
    page_bytes: u64,
    concurrency: usize,
    metrics: Arc<Metrics>,
    pub counters: RangeCounters,
}

impl BlockCache {
    pub fn new(
        capacity_bytes: u64,
        block_bytes: u64,
        concurrency: usize,
        metrics: Arc<Metrics>,
    ) -> BlockCache {
        let cache = moka::future::Cache::builder()
            .max_capacity(capacity_bytes)
            .weigher(|_k: &BlockKey, v: &Bytes| v.len().try_into().unwrap_or(u32::MAX))
            .eviction_listener(metrics.eviction_listener("block"))
            .build();
        let block_bytes = block_bytes.max(4096);
        BlockCache {
            cache,
            block_bytes,
            page_bytes: (block_bytes / 8).max(4096),
            concurrency: concurrency.max(1),
            metrics,
            counters: RangeCounters::default(),
        }
    }

    /// The bytes `range` of the object at `url` (of `version`), fetching missing blocks
    /// with `fetch` (one call per run of adjacent missing blocks).
    pub async fn read<F, Fut>(
        &self,
        url: &str,
        version: &ObjectVersion,
        range: Range<u64>,
        fetch: F,
    ) -> Result<Bytes, StorageError>
    where
        F: Fn(Range<u64>) -> Fut,
        Fut: Future<Output = Result<Bytes, StorageError>>,
    {
        let end = range.end.min(version.size);
        if range.start >= end {
            return Ok(Bytes::new());
        }
        let (url, version): (Arc<str>, Arc<ObjectVersion>) =
            (Arc::from(url), Arc::new(version.clone()));
        let key = |size, block| BlockKey {
            url: url.clone(),
            version: version.clone(),
            size,
            block,
        };
        // A small read inside a block already cached takes it from there; otherwise
        // it reads a page.
        let small = end - range.start <= self.page_bytes / 2;
        let big = range.start / self.block_bytes;
        if small
            && (end - 1) / self.block_bytes == big
            && let Some(b) = self.cache.get(&key(self.block_bytes, big)).await
        {
            self.metrics.cache_lookup("block", true);
            let lo = (range.start - big * self.block_bytes) as usize;
            return Ok(b.slice(lo..lo + (end - range.start) as usize));
        }
        let block_bytes = if small {
            self.page_bytes
        } else {
            self.block_bytes
        };
        let max_run_blocks = (16 << 20) / block_bytes + 1;
        let first = range.start / block_bytes;
        let last = (end - 1) / block_bytes;
        let mut blocks: Vec<Option<Bytes>> = Vec::with_capacity((last - first + 1) as usize);
        for b in first..=last {
            let hit = self.cache.get(&key(block_bytes, b)).await;
            self.metrics.cache_lookup("block", hit.is_some());
            blocks.push(hit);
        }
        // Runs of adjacent missing blocks, each one request.
        let mut runs: Vec<Range<u64>> = Vec::new();
        for (i, b) in blocks.iter().enumerate() {
            if b.is_some() {
                continue;
            }
            let n = first + i as u64;
            match runs.last_mut() {
                Some(r) if r.end == n && r.end - r.start < max_run_blocks => r.end = n + 1,
                _ => runs.push(n..n + 1),
            }
        }
        let size = version.size;
        let fetched: Vec<(Range<u64>, Bytes)> = futures::stream::iter(runs)
            .map(|run| {
                let bytes = (run.start * block_bytes)..(run.end * block_bytes).min(size);
                let want = bytes.end - bytes.start;
                let f = fetch(bytes);
                let url = url.clone();
                async move {
                    let data = f.await?;
                    if (data.len() as u64) < want {
                        return Err(StorageError::Backend {
                            location: url.to_string(),
                            message: format!(
                                "short read: {} of {want} bytes (object truncated?)",
                                data.len()
                            ),
                        });
                    }
                    Ok::<_, StorageError>((run, data))
                }
            })
            .buffer_unordered(self.concurrency)
            .try_collect()
            .await?;
        for (run, data) in fetched {
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            self.counters
                .bytes
                .fetch_add(data.len() as u64, Ordering::Relaxed);
            self.metrics.object_store_read("range", data.len() as u64);
            for b in run.clone() {
                let lo = ((b - run.start) * block_bytes) as usize;
                let hi = (lo + block_bytes as usize).min(data.len());
                let block = data.slice(lo..hi);
                self.cache.insert(key(block_bytes, b), block.clone()).await;
                blocks[(b - first) as usize] = Some(block);
            }
        }
        // One block: a view without copying; several: assembled.
        let start_in_first = (range.start - first * block_bytes) as usize;
        let len = (end - range.start) as usize;
        if blocks.len() == 1 {
            let b = blocks.pop().flatten().expect("filled above");
            return Ok(b.slice(start_in_first..start_in_first + len));
        }
        let mut out = BytesMut::with_capacity(len);
        for (i, b) in blocks.into_iter().enumerate() {
            let b = b.expect("filled above");
            let lo = if i == 0 { start_in_first } else { 0 };
            let hi = b.len().min(lo + (len - out.len()));
            out.extend_from_slice(&b[lo..hi]);
        }
        Ok(out.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn version(size: u64) -> ObjectVersion {
        ObjectVersion {
            size,
            last_modified: None,
            etag: Some("e1".into()),
        }
    }

    #[tokio::test]
    async fn blocks_coalesce_and_are_reused() {
        let data: Bytes = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let cache = BlockCache::new(1 << 20, 4096, 4, Arc::new(Metrics::new()));
        let requests = Mutex::new(Vec::new());
        let fetch = |r: Range<u64>| {
            requests.lock().unwrap().push(r.clone());
            let d = data.slice(r.start as usize..r.end as usize);
            async move { Ok(d) }
        };
        let v = version(10_000);
        // Spans blocks 0..=2: one coalesced request, clipped at the object's end.
        let got = cache.read("s3://b/k", &v, 100..9_000, fetch).await.unwrap();
        assert_eq!(&got[..], &data[100..9_000]);
        assert_eq!(*requests.lock().unwrap(), vec![0..10_000]);
        // Inside cached blocks: no request.
        let got = cache
            .read("s3://b/k", &v, 5_000..5_010, fetch)
            .await
            .unwrap();
        assert_eq!(&got[..], &data[5_000..5_010]);
        assert_eq!(requests.lock().unwrap().len(), 1);
        // A new version of the object is read again.
        let got = cache
            .read("s3://b/k", &version(10_000).with_etag("e2"), 0..10, fetch)
            .await
            .unwrap();
        assert_eq!(&got[..], &data[..10]);
        assert_eq!(requests.lock().unwrap().len(), 2);
        assert_eq!(cache.counters.requests.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn small_reads_fetch_pages_not_blocks() {
        let data: Bytes = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let cache = BlockCache::new(1 << 20, 64 << 10, 4, Arc::new(Metrics::new()));
        let requests = Mutex::new(Vec::new());
        let fetch = |r: Range<u64>| {
            requests.lock().unwrap().push(r.clone());
            let d = data.slice(r.start as usize..r.end as usize);
            async move { Ok(d) }
        };
        let v = version(200_000);
        // A 100-byte read (a B-tree node, say) brings one 8 KiB page.
        let got = cache
            .read("s3://b/k", &v, 70_000..70_100, fetch)
            .await
            .unwrap();
        assert_eq!(&got[..], &data[70_000..70_100]);
        assert_eq!(*requests.lock().unwrap(), vec![65_536..73_728]);
        // A chunk-sized read brings its whole block; small reads inside it then hit it.
        cache
            .read("s3://b/k", &v, 66_000..100_000, fetch)
            .await
            .unwrap();
        assert_eq!(requests.lock().unwrap()[1], 65_536..131_072);
        let got = cache
            .read("s3://b/k", &v, 120_000..120_010, fetch)
            .await
            .unwrap();
        assert_eq!(&got[..], &data[120_000..120_010]);
        assert_eq!(requests.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn short_reads_are_errors() {
        let cache = BlockCache::new(1 << 20, 4096, 4, Arc::new(Metrics::new()));
        let fetch = |_r: Range<u64>| async { Ok(Bytes::from_static(b"abc")) };
        let err = cache
            .read("http://h/k", &version(5_000), 0..100, fetch)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("short read"), "{err}");
    }

    impl ObjectVersion {
        fn with_etag(mut self, e: &str) -> ObjectVersion {
            self.etag = Some(e.into());
            self
        }
    }
}
