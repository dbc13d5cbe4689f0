//! Aggregations: building the configured collections (each file also served alone)
//! and finding them by id.

use std::sync::Arc;

use super::{AggregationReader, Candidate, Catalog, Dataset, DatasetEntry};
use crate::config::Config;
use crate::readers::Reader;
use crate::storage::Location;

impl Catalog {
    /// Builds (or rebuilds) every configured aggregation. Each file is also served alone
    /// as `{collection}/{relative path}`. Files that do not fit are reported and left
    /// out; a collection whose files did not change is kept as it is.
    pub async fn build_collections(&self, config: &Config) -> Vec<String> {
        let mut problems = Vec::new();
        for c in &config.collections {
            let combine = match c.combine() {
                Ok(k) => k,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            let files = match self.glob_locations(&c.glob, &config.base_dir).await {
                Ok(f) if !f.is_empty() => f,
                Ok(_) => {
                    problems.push(format!(
                        "collection {:?}: glob {:?} matches no file",
                        c.id, c.glob
                    ));
                    continue;
                }
                Err(e) => {
                    problems.push(format!("collection {:?}: {e}", c.id));
                    continue;
                }
            };
            let members: Vec<DatasetEntry> = files
                .into_iter()
                .map(|(rel, location)| DatasetEntry {
                    id: match &c.part {
                        Some(part) => format!("{}/{rel}/{part}", c.id),
                        None => format!("{}/{rel}", c.id),
                    },
                    title: None,
                    location,
                    part: c.part.clone(),
                })
                .collect();
            let member_ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
            self.insert_entries(members);
            self.insert_entries(vec![DatasetEntry {
                id: c.id.clone(),
                title: c.title.clone(),
                location: Location::Collection(c.id.clone()),
                part: None,
            }]);
            let mut candidates = Vec::new();
            for id in member_ids {
                match self.open(&id).await {
                    Ok(ds) => candidates.push(Candidate {
                        id,
                        location: ds.location.clone(),
                        version: ds.version.clone(),
                        reader: ds.reader.clone(),
                    }),
                    Err(e) => problems.push(format!("collection {:?}: {e}; excluded", c.id)),
                }
            }
            let built = if combine == crate::config::Combine::Features {
                super::feature_union::build(candidates)
            } else {
                AggregationReader::build(candidates, &combine).await
            };
            match built {
                Ok((reader, found)) => {
                    problems.extend(
                        found
                            .into_iter()
                            .map(|p| format!("collection {:?}: {p}", c.id)),
                    );
                    let version = reader.version();
                    let ids = reader.members().iter().map(|m| m.id.clone()).collect();
                    self.members
                        .write()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(c.id.clone(), ids);
                    let mut unions = self
                        .feature_unions
                        .write()
                        .unwrap_or_else(|p| p.into_inner());
                    if combine == crate::config::Combine::Features {
                        unions.insert(c.id.clone());
                    } else {
                        unions.remove(&c.id);
                    }
                    drop(unions);
                    if self
                        .collection(&c.id)
                        .is_some_and(|old| old.version == version)
                    {
                        continue;
                    }
                    let meta = reader.metadata();
                    let title = c
                        .title
                        .clone()
                        .or_else(|| {
                            use crate::model::AttributeList;
                            meta.attributes().attr_text("title")
                        })
                        .unwrap_or_else(|| c.id.clone());
                    let ds = Arc::new(Dataset {
                        id: c.id.clone(),
                        title,
                        location: Location::Collection(c.id.clone()),
                        version,
                        meta,
                        reader: Arc::new(reader),
                    });
                    self.collections
                        .write()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(c.id.clone(), ds);
                    self.bump();
                }
                Err(e) => problems.push(format!("collection {:?}: {e}", c.id)),
            }
        }
        problems
    }

    /// The ids of the files an aggregated dataset is made of (not those excluded), if
    /// `id` is one.
    pub fn collection_members(&self, id: &str) -> Option<Vec<String>> {
        self.members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// The member ids of an aggregation of observation files by their features (whose
    /// features are the union of its members').
    pub fn feature_members(&self, id: &str) -> Option<Vec<String>> {
        let unions = self
            .feature_unions
            .read()
            .unwrap_or_else(|p| p.into_inner());
        if !unions.contains(id) {
            return None;
        }
        self.collection_members(id)
    }

    pub(super) fn collection(&self, id: &str) -> Option<Arc<Dataset>> {
        self.collections
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }
}
