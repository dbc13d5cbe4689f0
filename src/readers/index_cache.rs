//! A cache of one open file's chunk indexes, shared by the readers that compute them.

use std::sync::Arc;

use super::ReadError;
use crate::model::{ChunkEntry, ChunkIndex};

/// Chunk indexes of one open file by variable path, bounded by their size (a large
/// variable has hundreds of thousands of chunks). A reader serves one version of one
/// file (the catalog reopens changed files), so paths are keys enough.
pub(crate) struct IndexCache(moka::future::Cache<String, Arc<Option<ChunkIndex>>>);

impl IndexCache {
    pub(crate) fn new() -> IndexCache {
        const BYTES: u64 = 64 << 20;
        IndexCache(
            moka::future::Cache::builder()
                .weigher(|k: &String, v: &Arc<Option<ChunkIndex>>| {
                    let chunks = v.as_ref().as_ref().map_or(0, |i| i.chunks.len());
                    (k.len() + 128 + chunks * (std::mem::size_of::<ChunkEntry>() + 24))
                        .min(u32::MAX as usize) as u32
                })
                .max_capacity(BYTES)
                .build(),
        )
    }

    pub(crate) async fn cached(&self, path: &str) -> Option<Arc<Option<ChunkIndex>>> {
        self.0.get(path).await
    }

    /// The full index of `path`, computed by `compute` (with every chunk) once.
    pub(crate) async fn index<F, Fut>(
        &self,
        path: &str,
        compute: F,
    ) -> Result<Arc<Option<ChunkIndex>>, ReadError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<ChunkIndex>, ReadError>>,
    {
        if let Some(hit) = self.0.get(path).await {
            return Ok(hit);
        }
        let index = Arc::new(compute().await?);
        self.0.insert(path.to_string(), index.clone()).await;
        Ok(index)
    }

    /// The layout of `path` (the index without its chunks): from the full index when
    /// known, else from `layout`, which need not visit every chunk.
    pub(crate) async fn layout<F, Fut>(
        &self,
        path: &str,
        layout: F,
    ) -> Result<Option<ChunkIndex>, ReadError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<ChunkIndex>, ReadError>>,
    {
        let mut index = match self.0.get(path).await {
            Some(hit) => (*hit).clone(),
            None => layout().await?,
        };
        if let Some(i) = index.as_mut() {
            i.chunks.clear();
        }
        Ok(index)
    }
}
