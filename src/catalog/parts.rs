//! Files that hold several datasets (a GRIB file whose messages form several
//! hypercubes): each is listed as `{file}/{part}`, opened once at scan time to learn
//! its parts. A damaged file is skipped with a problem reported, not served.

use std::sync::Arc;

use futures::StreamExt;

use super::{Catalog, DatasetEntry};
use crate::readers::formats::{self, DatasetShape};
use crate::readers::{ReadError, Reader};
use crate::storage::Location;

type Opened = (DatasetEntry, Result<Arc<dyn Reader>, ReadError>);

/// Files opened at once while splitting.
const PARALLEL_OPENS: usize = 4;

fn may_hold_several(location: &Location) -> bool {
    match location {
        Location::Local(p) => {
            formats::detect_local(p).is_some_and(|f| f.shape == DatasetShape::MultiDatasetFile)
        }
        Location::Remote(r) => formats::may_hold_several_datasets(&r.key),
        _ => false,
    }
}

impl Catalog {
    /// Replaces each entry whose file holds several datasets by one entry per
    /// dataset; drops the entries of such files that cannot be opened. Returns the
    /// problems found.
    pub async fn split_multi_dataset_files(&self) -> Vec<String> {
        let entries = self.entries();
        let candidates: Vec<DatasetEntry> = entries
            .values()
            .filter(|e| e.part.is_none() && may_hold_several(&e.location))
            .cloned()
            .collect();
        if candidates.is_empty() {
            return Vec::new();
        }
        let opened: Vec<Opened> = futures::stream::iter(candidates)
            .map(|e| async move {
                let r = self.open_file(&e.location).await;
                (e, r)
            })
            .buffer_unordered(PARALLEL_OPENS)
            .collect()
            .await;
        let mut problems = Vec::new();
        let mut removed = Vec::new();
        let mut added = Vec::new();
        for (entry, reader) in opened {
            match reader {
                Ok(reader) => {
                    let parts = reader.parts();
                    if parts.is_empty() {
                        continue;
                    }
                    removed.push(entry.id.clone());
                    added.extend(parts.into_iter().map(|part| DatasetEntry {
                        id: format!("{}/{part}", entry.id),
                        title: entry.title.as_ref().map(|t| format!("{t} ({part})")),
                        location: entry.location.clone(),
                        part: Some(part),
                    }));
                }
                Err(e) => {
                    tracing::warn!("{}: skipped: {e}", entry.location);
                    problems.push(format!("{}: skipped: {}", entry.id, e.public_message()));
                    removed.push(entry.id.clone());
                }
            }
        }
        let mut guard = self.entries.write().unwrap_or_else(|p| p.into_inner());
        let mut map = (**guard).clone();
        for id in removed {
            map.remove(&id);
        }
        for e in added {
            if map.contains_key(&e.id) {
                problems.push(format!("duplicate id {:?}; keeping the first", e.id));
            } else {
                map.insert(e.id.clone(), e);
            }
        }
        *guard = Arc::new(map);
        drop(guard);
        self.bump();
        problems
    }
}
