//! Zarr v2 and v3 stores, and kerchunk reference sets (whose keys are Zarr v2), read
//! with zarrs: metadata mapped to the model by `model_map.rs`, chunks decoded by zarrs'
//! codec pipelines (blosc, zstd, gzip, zlib, shuffle, sharding, ...) from bytes
//! datagate's storage layer reads (`keys.rs`, `adapter.rs`).

mod adapter;
mod attributes;
mod hierarchy;
pub(super) mod keys;
mod model_map;
mod passthrough;
mod read;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;
use zarrs::array::{Array as ZarrsArray, ArrayMetadata, ArrayMetadataV2, ArrayMetadataV3};
use zarrs::storage::ReadableStorageTraits;

use super::reader::{FormatSpec, OpenRequest};
use super::{ReadError, Reader};
use bytes::Bytes;

use crate::model::{Array, ChunkIndex, DatasetMeta};
use crate::storage::Location;
use crate::subset::Hyperslab;
use adapter::ZarrsStorage;
use hierarchy::{ArrayNode, ZarrFormat};
use keys::{KeySource, StoreKeys};
use model_map::ServedArray;
use read::CachedArray;

/// Opens a Zarr store (the `zarr` row of the format table).
pub(super) fn open_store<'a>(
    format: &'static FormatSpec,
    req: OpenRequest<'a>,
) -> BoxFuture<'a, Result<Arc<dyn Reader>, ReadError>> {
    Box::pin(async move {
        let source = StoreKeys::new(req.location.clone(), req.storage.clone());
        let cache = req.config.decoded_chunk_cache_bytes;
        let reader = ZarrReader::open(format, Arc::new(source), cache).await?;
        Ok(Arc::new(reader) as Arc<dyn Reader>)
    })
}

/// The least memory for each array's decoded chunks, whatever the number of arrays.
const MIN_ARRAY_CACHE_BYTES: usize = 1 << 20;

/// An open Zarr hierarchy.
pub struct ZarrReader {
    format: &'static FormatSpec,
    location: Location,
    zarr_format: ZarrFormat,
    source: Arc<dyn KeySource>,
    /// Every key and its size, listed on the first chunk index asked for.
    listing: tokio::sync::OnceCell<Arc<Vec<(String, u64)>>>,
    meta: Arc<DatasetMeta>,
    /// By model variable path.
    arrays: HashMap<String, (ServedArray, Arc<CachedArray>)>,
    /// Memory the arrays' decoded chunks may take, in all.
    cache_bytes: usize,
}

/// The zarrs array of a node, or why zarrs cannot read it (an unknown codec...).
fn zarrs_array(
    storage: &Arc<dyn ReadableStorageTraits>,
    node: &ArrayNode,
    format: ZarrFormat,
) -> Result<ZarrsArray<dyn ReadableStorageTraits>, String> {
    let metadata = match format {
        ZarrFormat::V2 => ArrayMetadata::V2(
            serde_json::from_value::<ArrayMetadataV2>(node.metadata.clone())
                .map_err(|e| e.to_string())?,
        ),
        ZarrFormat::V3 => ArrayMetadata::V3(
            serde_json::from_value::<ArrayMetadataV3>(node.metadata.clone())
                .map_err(|e| e.to_string())?,
        ),
    };
    ZarrsArray::new_with_metadata(storage.clone(), &format!("/{}", node.path), metadata)
        .map_err(|e| e.to_string())
}

impl ZarrReader {
    /// Opens the hierarchy of `source`, with `cache_bytes` for decoded chunks.
    pub async fn open(
        format: &'static FormatSpec,
        source: Arc<dyn KeySource>,
        cache_bytes: usize,
    ) -> Result<ZarrReader, ReadError> {
        let location = source.location().clone();
        let mut h = hierarchy::discover(source.as_ref()).await?;
        let storage: Arc<dyn ReadableStorageTraits> = Arc::new(ZarrsStorage::new(source.clone()));
        let mut opened = HashMap::new();
        h.arrays
            .retain(|node| match zarrs_array(&storage, node, h.format) {
                Ok(a) => {
                    opened.insert(node.path.clone(), a);
                    true
                }
                Err(e) => {
                    tracing::warn!("{location}: array {} left out: {e}", node.path);
                    false
                }
            });
        let (meta, served) = model_map::build(&h, &location.to_string());
        let per_array = (cache_bytes / served.len().max(1)).max(MIN_ARRAY_CACHE_BYTES);
        let arrays: HashMap<_, _> = served
            .into_iter()
            .filter_map(|s| {
                let a = Arc::new(opened.remove(&s.node_path)?);
                let cached = CachedArray::new(a, per_array as u64);
                Some((s.var_path.clone(), (s, Arc::new(cached))))
            })
            .collect();
        let cache_bytes = per_array * arrays.len();
        Ok(ZarrReader {
            format,
            location,
            zarr_format: h.format,
            source,
            listing: tokio::sync::OnceCell::new(),
            cache_bytes,
            meta: Arc::new(meta),
            arrays,
        })
    }
}

#[async_trait]
impl Reader for ZarrReader {
    fn format(&self) -> &'static FormatSpec {
        self.format
    }

    fn metadata(&self) -> Arc<DatasetMeta> {
        self.meta.clone()
    }

    fn memory_budget(&self) -> usize {
        self.cache_bytes
    }

    async fn read(&self, path: &str, slab: &Hyperslab) -> Result<Array, ReadError> {
        let (served, array) = self
            .arrays
            .get(&full_path(path))
            .ok_or_else(|| ReadError::NoSuchVariable(path.to_string()))?;
        read::read(array, served, slab, &self.location).await
    }

    async fn chunk_layout(&self, path: &str) -> Result<Option<ChunkIndex>, ReadError> {
        Ok(self.stored_layout(path).map(|(index, _, _)| index))
    }

    async fn chunk_index(&self, path: &str) -> Result<Option<ChunkIndex>, ReadError> {
        let Some((mut index, keys, served)) = self.stored_layout(path) else {
            return Ok(None);
        };
        let listing = self
            .listing
            .get_or_try_init(|| async { self.source.keys().await.map(Arc::new) })
            .await?;
        index.chunks = passthrough::entries(listing, &served.node_path, keys, served.shape.len());
        Ok(Some(index))
    }

    async fn stored_chunk(&self, key: &str) -> Result<Option<Bytes>, ReadError> {
        self.source.get(key).await
    }
}

impl ZarrReader {
    /// The stored layout of a variable whose codecs the model describes.
    fn stored_layout(
        &self,
        path: &str,
    ) -> Option<(ChunkIndex, passthrough::KeyEncoding, &ServedArray)> {
        let (served, _) = self.arrays.get(&full_path(path))?;
        let elem = served.element.dtype().size()?;
        // Booleans are served as u8, which their stored bytes are too.
        let v3 = self.zarr_format == ZarrFormat::V3;
        let (index, keys) = passthrough::stored_layout(&served.metadata, v3, elem)?;
        Some((index, keys, served))
    }
}

fn full_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

#[cfg(test)]
mod tests;
