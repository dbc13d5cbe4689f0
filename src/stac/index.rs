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
