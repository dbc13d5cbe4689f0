//! Opening datasets, through the caches of `open_cache.rs`: a dataset whose file has
//! not changed is not opened again.

use std::sync::Arc;

use super::{Catalog, CatalogError, Dataset};
use crate::error::{ErrorKind, Kinded as _};
use crate::readers::{self, ReadError, Reader};
use crate::storage::{Location, ObjectVersion, StorageError};

impl Catalog {
    /// The current version of a location: remote ones are trusted for
    /// `storage.revalidate_secs`, local files for `storage.local_revalidate_ms` (a
    /// `stat` and a thread hop per request otherwise: most of a metadata request).
    async fn version(&self, loc: &Location) -> Result<ObjectVersion, StorageError> {
        if !loc.is_remote() {
            let Some(local) = &self.opened.local_versions else {
                return readers::dataset_version(loc, &self.storage).await;
            };
            if let Some(v) = local.get(loc).await {
                return Ok(v);
            }
            let v = readers::dataset_version(loc, &self.storage).await?;
            local.insert(loc.clone(), v.clone()).await;
            return Ok(v);
        }
        if self.storage.config().revalidate_secs == 0 {
            return readers::dataset_version(loc, &self.storage).await;
        }
        if self.storage.take_changed(loc) {
            self.opened.remote_versions.invalidate(loc).await;
        } else if let Some(v) = self.opened.remote_versions.get(loc).await {
            return Ok(v);
        }
        let v = readers::dataset_version(loc, &self.storage).await?;
        self.opened
            .remote_versions
            .insert(loc.clone(), v.clone())
            .await;
        Ok(v)
    }

    /// The reader of a whole file at its current version, through the cache of
    /// readers (what `open` then takes a dataset, or a part, from).
    pub(super) async fn open_file(
        &self,
        location: &Location,
    ) -> Result<Arc<dyn crate::readers::Reader>, ReadError> {
        let version = self.version(location).await?;
        self.reader_at(location, &version)
            .await
            .map_err(|e: Arc<ReadError>| match Arc::try_unwrap(e) {
                Ok(e) => e,
                Err(shared) => ReadError::Format {
                    location: location.to_string(),
                    message: match &*shared {
                        ReadError::Format { message, .. } => message.clone(),
                        other => other.to_string(),
                    },
                },
            })
    }

    /// The reader of a file version, through the cache of readers. A version found
    /// unreadable is refused for a while without a new attempt (`OpenCache::unreadable`).
    async fn reader_at(
        &self,
        location: &Location,
        version: &ObjectVersion,
    ) -> Result<Arc<dyn Reader>, Arc<ReadError>> {
        let key = (location.clone(), version.clone());
        if let Some(e) = self.opened.unreadable.get(&key).await {
            self.metrics.cache_event("unreadable", "hit");
            return Err(e);
        }
        let (storage, config) = (self.storage.clone(), self.opened.readers_config.clone());
        let (loc, v) = (location.clone(), version.clone());
        let opened = self
            .opened
            .readers
            .try_get_with(key.clone(), async move {
                readers::open_at(&loc, &v, &storage, &config).await
            })
            .await;
        if let Err(e) = &opened {
            // Only the file's own faults: storage errors may pass.
            if matches!(e.kind(), ErrorKind::Unreadable) {
                self.opened.unreadable.insert(key, e.clone()).await;
            }
        }
        opened
    }

    /// Opens a dataset (or returns it from the cache if its file has not changed).
    pub async fn open(&self, id: &str) -> Result<Arc<Dataset>, CatalogError> {
        if let Some(ds) = self.collection(id) {
            return Ok(ds);
        }
        let entry = self
            .entries()
            .get(id)
            .cloned()
            .ok_or_else(|| CatalogError::NotFound(id.to_string()))?;
        let unavailable = |e: ReadError| CatalogError::Unavailable {
            id: id.to_string(),
            source: Arc::new(e),
        };
        // A configured aggregation that could not be built (files that do not fit).
        if matches!(entry.location, Location::Collection(_)) {
            return Err(unavailable(ReadError::Format {
                location: entry.location.to_string(),
                message: "the aggregation could not be built from its files (the server log \
                          says why)"
                    .into(),
            }));
        }
        let version = match self.version(&entry.location).await {
            Ok(v) => v,
            Err(StorageError::NotFound(_)) => return Err(CatalogError::NotFound(id.to_string())),
            Err(e) => return Err(unavailable(e.into())),
            // (404 for a vanished file is handled above.)
        };
        let key = (id.to_string(), entry.location.clone(), version.clone());
        if let Some(ds) = self.opened.datasets.get(&key).await {
            self.metrics.cache_event("metadata", "hit");
            return Ok(ds);
        }
        self.metrics.cache_event("metadata", "miss");
        self.opened
            .datasets
            .try_get_with(key, async move {
                let file = self.reader_at(&entry.location, &version).await?;
                let reader = match &entry.part {
                    // Changed since the scan into a file of several datasets, which are
                    // listed at the next start.
                    None if !file.parts().is_empty() => {
                        return Err(Arc::new(ReadError::Format {
                            location: entry.location.to_string(),
                            message: "the file now holds several datasets".into(),
                        }));
                    }
                    None => file,
                    // The file changed since the scan and no longer holds this part.
                    Some(part) => file.part(part).ok_or_else(|| {
                        Arc::new(ReadError::Format {
                            location: entry.location.to_string(),
                            message: format!("the file no longer holds the dataset {part:?}"),
                        })
                    })?,
                };
                let meta = reader.metadata();
                let title = entry
                    .title
                    .clone()
                    .or_else(|| {
                        use crate::model::AttributeList;
                        meta.attributes().attr_text("title")
                    })
                    .unwrap_or_else(|| entry.id.clone());
                Ok::<_, Arc<ReadError>>(Arc::new(Dataset {
                    id: entry.id.clone(),
                    title,
                    location: entry.location.clone(),
                    version,
                    meta,
                    reader,
                }))
            })
            .await
            .map_err(|e: Arc<Arc<ReadError>>| CatalogError::Unavailable {
                id: id.to_string(),
                source: (*e).clone(),
            })
    }
}
