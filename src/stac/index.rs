//! The item index: one STAC item per dataset file, with its footprint and time span,
//! built from the catalog and rebuilt when the catalog changes.

use super::geometry::Geometry;
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
    /// The GeoJSON geometry of an observation file's features (their places or tracks)
    /// or of a swath's outline; `None` for grids, whose geometry is their bounding box.
    pub geometry: Option<serde_json::Value>,
    /// A swath's outline, which a bbox search must touch (not just its box: a tilted
    /// swath's box holds wide areas it never saw).
    pub outline: Option<Geometry>,
    /// An item that is one feature of an observation aggregation: the aggregation's
    /// dataset id (whose endpoints are its assets); `None` for a dataset's item.
    pub dataset: Option<String>,
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
        // Aggregations of observation files by their features have an item per feature.
        let unions: Vec<&String> = aggregates
            .iter()
            .map(|(c, _)| c)
            .filter(|c| catalog.feature_members(c).is_some())
            .collect();
        for (cid, members) in &aggregates {
            if unions.contains(&cid) {
                continue;
            }
            for m in members {
                membership.push((m.clone(), cid.clone()));
            }
        }
        for id in entries.keys() {
            let is_aggregate = aggregates.iter().any(|(c, _)| c == id);
            let is_member = aggregates.iter().any(|(_, ms)| ms.contains(id));
            if !is_aggregate && !is_member {
                membership.push((id.clone(), DEFAULT_COLLECTION.to_string()));
            }
        }
        let mut items = Vec::with_capacity(membership.len());
        for (id, collection) in membership {
            let Ok(ds) = catalog.open(&id).await else {
                continue;
            };
            let observed = if crate::features::is_dsg(&ds.meta) {
                observation_extent(&ds).await
            } else {
                None
            };
            let (extent, geometry, outline) = match observed {
                Some((e, g)) => (e, Some(g), None),
                None => match ds.extent().await {
                    Ok(e) => {
                        let g = e.footprint.as_deref().and_then(footprint_geometry);
                        let outline = g.as_ref().and_then(|g| Geometry::from_geojson(g).ok());
                        (e, g, outline)
                    }
                    Err(e) => {
                        tracing::warn!("stac: {id}: {e}");
                        continue;
                    }
                },
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
                geometry,
                outline,
                dataset: None,
            });
        }
        for (cid, members) in aggregates.iter().filter(|(c, _)| unions.contains(&c)) {
            items.extend(feature_items(catalog, cid, members).await);
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
            let mut c = IndexedCollection {
                id: cid,
                title,
                bbox: None,
                start: None,
                end: None,
            };
            c.set_extent(&mine);
            collections.push(c);
        }
        ItemIndex { collections, items }
    }
}

impl IndexedCollection {
    /// The union of `items`' boxes and their overall time span.
    pub fn set_extent(&mut self, items: &[&IndexedItem]) {
        self.bbox = items
            .iter()
            .filter_map(|i| i.bbox)
            .reduce(|a, b| a.union(&b));
        self.start = items.iter().filter_map(|i| i.start).min_by_key(time_key);
        self.end = items.iter().filter_map(|i| i.end).max_by_key(time_key);
    }
}

/// Vertices of an item's geometry at most (tracks are thinned to fit).
const MAX_VERTICES: usize = 2000;

/// The extent of an observation file from its features, and their places (a Point
/// or MultiPoint) or tracks (a LineString or MultiLineString). `None` when the file's
/// features cannot be read (the item then gets the extent of its coordinates).
async fn observation_extent(
    ds: &std::sync::Arc<crate::catalog::Dataset>,
) -> Option<(crate::catalog::DatasetExtent, serde_json::Value)> {
    let index = match crate::features::build_index_off_the_workers(ds.clone()).await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!("stac: {}: {e}", ds.id);
            return None;
        }
    };
    let bbox = index
        .bbox()
        .and_then(|(w, s, e, n)| crate::subset::BBox::new(w, s, e, n).ok());
    let time = index.time_span().and_then(|(a, b)| {
        let units = index.time_units.as_ref()?;
        Some((units.decode(a)?, units.decode(b)?))
    });
    let extent = crate::catalog::DatasetExtent {
        bbox,
        time,
        footprint: None,
    };
    Some((extent, observation_geometry(&index)?))
}

/// One item per feature of an aggregation of observation files by their features: its
/// place (a Point) or track (a LineString) and its time span. Features without a time
/// are not items.
async fn feature_items(catalog: &Catalog, cid: &str, members: &[String]) -> Vec<IndexedItem> {
    use crate::features::{UnionMember, build_index_off_the_workers, union};
    use serde_json::json;
    let mut parts = Vec::new();
    for id in members {
        let Ok(ds) = catalog.open(id).await else {
            continue;
        };
        match build_index_off_the_workers(ds.clone()).await {
            Ok(index) => parts.push(UnionMember {
                index: std::sync::Arc::new(index),
                source: ds,
            }),
            Err(e) => tracing::warn!("stac: {id}: {e}"),
        }
    }
    let Ok(index) = union(parts) else {
        return Vec::new();
    };
    let Some(units) = index.time_units.as_ref() else {
        return Vec::new();
    };
    index
        .features
        .iter()
        .filter_map(|f| {
            let (a, b) = f.time_span?;
            let (w, s, e, n) = f.bbox;
            let geometry = match f.track(MAX_VERTICES).as_slice() {
                [] => return None,
                [p] => json!({"type": "Point", "coordinates": p}),
                line => json!({"type": "LineString", "coordinates": line}),
            };
            Some(IndexedItem {
                id: f.id.clone(),
                collection: cid.to_string(),
                title: format!("{} {}", index.schema.feature_type.name(), f.id),
                bbox: BBox::new(w, s, e, n).ok(),
                start: units.decode(a),
                end: units.decode(b),
                geometry: Some(geometry),
                outline: None,
                dataset: Some(cid.to_string()),
            })
        })
        .collect()
}

/// A swath's outline: a Polygon, or a MultiPolygon when split at the antimeridian.
fn footprint_geometry(parts: &[Vec<[f64; 2]>]) -> Option<serde_json::Value> {
    use serde_json::json;
    match parts {
        [] => None,
        [one] => Some(json!({"type": "Polygon", "coordinates": [one]})),
        _ => {
            let polygons: Vec<[&Vec<[f64; 2]>; 1]> = parts.iter().map(|p| [p]).collect();
            Some(json!({"type": "MultiPolygon", "coordinates": polygons}))
        }
    }
}

/// The places or tracks of a file's features, thinned to `MAX_VERTICES`.
fn observation_geometry(index: &crate::features::FeatureIndex) -> Option<serde_json::Value> {
    use serde_json::json;
    let per_feature = (MAX_VERTICES / index.features.len().max(1)).max(2);
    let tracks: Vec<Vec<[f64; 2]>> = index
        .features
        .iter()
        .map(|f| f.track(per_feature))
        .filter(|t| !t.is_empty())
        .collect();
    if tracks.iter().all(|t| t.len() == 1) {
        let places: Vec<[f64; 2]> = tracks.iter().map(|t| t[0]).take(MAX_VERTICES).collect();
        return match places.as_slice() {
            [] => None,
            [p] => Some(json!({"type": "Point", "coordinates": p})),
            _ => Some(json!({"type": "MultiPoint", "coordinates": places})),
        };
    }
    // A one-place feature among moving ones becomes a degenerate segment.
    let lines: Vec<Vec<[f64; 2]>> = tracks
        .into_iter()
        .map(|t| if t.len() == 1 { vec![t[0], t[0]] } else { t })
        .collect();
    match lines.as_slice() {
        [one] => Some(json!({"type": "LineString", "coordinates": one})),
        _ => Some(json!({"type": "MultiLineString", "coordinates": lines})),
    }
}

impl crate::cache::Weight for ItemIndex {
    /// Ids, titles, bboxes and times: a few hundred bytes an item or collection.
    fn weight(&self) -> usize {
        (self.items.len() + self.collections.len()).saturating_mul(512)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_as_geojson() {
        let ring = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]];
        let one = footprint_geometry(std::slice::from_ref(&ring)).unwrap();
        assert_eq!(one["type"], "Polygon");
        assert_eq!(one["coordinates"][0][2], serde_json::json!([1.0, 1.0]));
        let two = footprint_geometry(&[ring.clone(), ring]).unwrap();
        assert_eq!(two["type"], "MultiPolygon");
        assert_eq!(two["coordinates"][1][0][1], serde_json::json!([1.0, 0.0]));
        assert!(footprint_geometry(&[]).is_none());
    }
}
