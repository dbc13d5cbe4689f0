//! The item index: one STAC item per dataset file, with its footprint and time span,
//! built from the catalog and rebuilt when the catalog changes.

use crate::catalog::Catalog;
use crate::model::cf::CfDateTime;
use crate::subset::BBox;

/// The STAC collection of datasets that belong to no aggregation.
pub const DEFAULT_COLLECTION: &str = "datasets";

#[derive(Debug, Clone)]
pub struct IndexedItem {
    pub id: String,
    pub collection: String,
    pub title: String,
    pub bbox: Option<BBox>,
    pub start: Option<CfDateTime>,
    pub end: Option<CfDateTime>,
}

#[derive(Debug, Clone)]
pub struct IndexedCollection {
    pub id: String,
    pub title: String,
    /// Union of the items' bboxes, and their overall time span.
    pub bbox: Option<BBox>,
    pub start: Option<CfDateTime>,
    pub end: Option<CfDateTime>,
}

#[derive(Debug, Default)]
pub struct ItemIndex {
    pub collections: Vec<IndexedCollection>,
    /// Ordered by collection, then id.
    pub items: Vec<IndexedItem>,
}

/// Time keys that order dates of any calendar.
pub fn time_key(t: &CfDateTime) -> (i64, u32, u32, u32, u32, i64) {
    (
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        (t.second * 1000.0) as i64,
    )
}

impl ItemIndex {
    pub async fn build(catalog: &Catalog) -> ItemIndex {
        let entries = catalog.entries();
        let aggregates: Vec<(String, Vec<String>)> = entries
            .keys()
            .filter_map(|id| catalog.collection_members(id).map(|m| (id.clone(), m)))
            .collect();
        let mut membership: Vec<(String, String)> = Vec::new(); // (item, collection)
        for (cid, members) in &aggregates {
            for m in members {
                membership.push((m.clone(), cid.clone()));
            }
        }
        for id in entries.keys() {
            let is_aggregate = aggregates.iter().any(|(c, _)| c == id);
            let is_member = membership.iter().any(|(m, _)| m == id);
            if !is_aggregate && !is_member {
                membership.push((id.clone(), DEFAULT_COLLECTION.to_string()));
            }
        }
        let mut items = Vec::with_capacity(membership.len());
        for (id, collection) in membership {
            let Ok(ds) = catalog.open(&id).await else {
                continue;
            };
            let extent = match ds.extent().await {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!("stac: {id}: {e}");
                    continue;
                }
            };
            // STAC items need a time: files without a time coordinate are not items.
            if extent.time.is_none() {
                continue;
            }
            items.push(IndexedItem {
                id,
                collection,
                title: ds.title.clone(),
                bbox: extent.bbox,
                start: extent.time.map(|t| t.0),
                end: extent.time.map(|t| t.1),
            });
        }
        items.sort_by(|a, b| (&a.collection, &a.id).cmp(&(&b.collection, &b.id)));
        let mut collections: Vec<IndexedCollection> = Vec::new();
        let mut ids: Vec<String> = aggregates.iter().map(|(c, _)| c.clone()).collect();
        ids.push(DEFAULT_COLLECTION.to_string());
        for cid in ids {
            let mine: Vec<&IndexedItem> = items.iter().filter(|i| i.collection == cid).collect();
            let title = if cid == DEFAULT_COLLECTION {
                "Datasets served by datagate".to_string()
            } else {
                match catalog.open(&cid).await {
                    Ok(ds) => ds.title.clone(),
                    Err(_) => cid.clone(),
                }
            };
            let bbox = mine
                .iter()
                .filter_map(|i| i.bbox)
                .reduce(|a, b| a.union(&b));
            let start = mine.iter().filter_map(|i| i.start).min_by_key(time_key);
            let end = mine.iter().filter_map(|i| i.end).max_by_key(time_key);
            collections.push(IndexedCollection {
                id: cid,
                title,
                bbox,
                start,
                end,
            });
        }
        ItemIndex { collections, items }
    }
}

impl crate::cache::Weight for ItemIndex {
    /// Ids, titles, bboxes and times: a few hundred bytes an item or collection.
    fn weight(&self) -> usize {
        (self.items.len() + self.collections.len()).saturating_mul(512)
    }
}
