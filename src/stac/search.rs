//! Item search: `bbox`, `intersects`, `datetime`, `collections`, `ids`, `limit`, paging.

use serde::Deserialize;
use serde_json::Value;

use super::error::StacError;
use super::geometry::Geometry;
use super::index::{IndexedItem, time_key};
use crate::model::cf::CfDateTime;
use crate::subset::BBox;

pub const DEFAULT_LIMIT: usize = 10;
pub const MAX_LIMIT: usize = 10_000;

/// A search as POSTed (JSON) or built from GET parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    pub bbox: Option<Vec<f64>>,
    pub intersects: Option<Value>,
    pub datetime: Option<String>,
    pub collections: Option<Vec<String>>,
    pub ids: Option<Vec<String>>,
    pub limit: Option<usize>,
    /// Paging: the offset of the first item to return, as given in `next` links.
    pub token: Option<String>,
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

impl SearchRequest {
    /// From GET query parameters (already percent-decoded pairs).
    pub fn from_query(pairs: &[(String, String)]) -> Result<SearchRequest, StacError> {
        let mut r = SearchRequest::default();
        for (k, v) in pairs {
            match k.as_str() {
                "bbox" => {
                    let nums: Result<Vec<f64>, _> =
                        v.split(',').map(|x| x.trim().parse()).collect();
                    r.bbox = Some(nums.map_err(|_| {
                        StacError::BadRequest(format!("bbox {v:?} is not a list of numbers"))
                    })?);
                }
                "intersects" => {
                    r.intersects = Some(serde_json::from_str(v).map_err(|e| {
                        StacError::BadRequest(format!("intersects is not GeoJSON: {e}"))
                    })?)
                }
                "datetime" => r.datetime = Some(v.clone()),
                "collections" => r.collections = Some(list(v)),
                "ids" => r.ids = Some(list(v)),
                "limit" => {
                    r.limit = Some(v.parse().map_err(|_| {
                        StacError::BadRequest(format!("limit {v:?} is not a number"))
                    })?)
                }
                "token" => r.token = Some(v.clone()),
                _ => {}
            }
        }
        Ok(r)
    }
}

/// A validated search.
pub struct Search {
    bbox: Option<BBox>,
    intersects: Option<Geometry>,
    /// Inclusive bounds; `None` = open.
    from: Option<CfDateTime>,
    to: Option<CfDateTime>,
    collections: Option<Vec<String>>,
    ids: Option<Vec<String>>,
    pub limit: usize,
    pub offset: usize,
}

fn parse_instant(s: &str) -> Result<Option<CfDateTime>, StacError> {
    let s = s.trim();
    if s.is_empty() || s == ".." {
        return Ok(None);
    }
    CfDateTime::parse(s)
        .map(Some)
        .map_err(|_| StacError::BadRequest(format!("datetime {s:?} is not RFC 3339")))
}

impl Search {
    pub fn new(r: SearchRequest) -> Result<Search, StacError> {
        let bbox = match r.bbox.as_deref() {
            None => None,
            Some([w, s, e, n]) | Some([w, s, _, e, n, _]) => {
                Some(BBox::new(*w, *s, *e, *n).map_err(|e| StacError::BadRequest(e.to_string()))?)
            }
            Some(_) => return Err(StacError::BadRequest("bbox needs 4 or 6 numbers".into())),
        };
        if bbox.is_some() && r.intersects.is_some() {
            return Err(StacError::BadRequest(
                "give bbox or intersects, not both".into(),
            ));
        }
        let intersects = r
            .intersects
            .as_ref()
            .map(Geometry::from_geojson)
            .transpose()?;
        let (from, to) = match r.datetime.as_deref() {
            None => (None, None),
            Some(d) => match d.split_once('/') {
                Some((a, b)) => {
                    let (a, b) = (parse_instant(a)?, parse_instant(b)?);
                    if let (Some(x), Some(y)) = (&a, &b)
                        && time_key(x) > time_key(y)
                    {
                        return Err(StacError::BadRequest(
                            "datetime interval ends before it starts".into(),
                        ));
                    }
                    (a, b)
                }
                None => {
                    let t = parse_instant(d)?
                        .ok_or_else(|| StacError::BadRequest("datetime is empty".into()))?;
                    (Some(t), Some(t))
                }
            },
        };
        let limit = r.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(StacError::BadRequest(format!(
                "limit must be 1..={MAX_LIMIT}"
            )));
        }
        let offset = match r.token.as_deref() {
            None => 0,
            Some(t) => t
                .strip_prefix("next:")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| StacError::BadRequest(format!("unknown paging token {t:?}")))?,
        };
        Ok(Search {
            bbox,
            intersects,
            from,
            to,
            collections: r.collections,
            ids: r.ids,
            limit,
            offset,
        })
    }

    /// Restricts to one collection (the `/collections/{id}/items` form).
    pub fn in_collection(mut self, id: &str) -> Search {
        self.collections = Some(vec![id.to_string()]);
        self
    }

    pub fn matches(&self, item: &IndexedItem) -> bool {
        if let Some(c) = &self.collections
            && !c.contains(&item.collection)
        {
            return false;
        }
        if let Some(ids) = &self.ids
            && !ids.contains(&item.id)
        {
            return false;
        }
        if self.bbox.is_some() || self.intersects.is_some() {
            let Some(b) = item.bbox else { return false };
            if let Some(q) = self.bbox
                && !q.intersects(&b)
            {
                return false;
            }
            if let (Some(q), Some(outline)) = (self.bbox, &item.outline)
                && !halves(&q).iter().any(|h| outline.intersects_bbox(h))
            {
                return false;
            }
            if let Some(g) = &self.intersects
                && !g.intersects_bbox(&b)
            {
                return false;
            }
        }
        if self.from.is_some() || self.to.is_some() {
            let (Some(start), Some(end)) = (&item.start, &item.end) else {
                return false;
            };
            if self.from.is_some_and(|f| time_key(end) < time_key(&f)) {
                return false;
            }
            if self.to.is_some_and(|t| time_key(start) > time_key(&t)) {
                return false;
            }
        }
        true
    }
}

/// A box as boxes not crossing the antimeridian (what geometries are tested against).
fn halves(b: &BBox) -> Vec<BBox> {
    let [w, s, e, n] = b.to_array();
    if !b.crosses_antimeridian() {
        return vec![*b];
    }
    [(w, 180.0), (-180.0, e)]
        .into_iter()
        .filter_map(|(w, e)| BBox::new(w, s, e, n).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(bbox: [f64; 4], start: &str, end: &str) -> IndexedItem {
        let [w, s, e, n] = bbox;
        IndexedItem {
            id: "x".into(),
            collection: "c".into(),
            title: "x".into(),
            bbox: Some(BBox::new(w, s, e, n).unwrap()),
            start: Some(CfDateTime::parse(start).unwrap()),
            end: Some(CfDateTime::parse(end).unwrap()),
            geometry: None,
            outline: None,
            dataset: None,
        }
    }

    fn search(pairs: &[(&str, &str)]) -> Result<Search, StacError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Search::new(SearchRequest::from_query(&pairs)?)
    }

    #[test]
    fn swaths_match_by_their_outline() {
        let mut i = item([0.0, 0.0, 10.0, 10.0], "2020-01-01", "2020-01-31");
        // A diagonal band from the south-west corner to the north-east one.
        i.outline = Some(
            Geometry::from_geojson(&serde_json::json!({
                "type": "Polygon",
                "coordinates": [[[0, 0], [2, 0], [10, 8], [10, 10], [8, 10], [0, 2], [0, 0]]]
            }))
            .unwrap(),
        );
        assert!(search(&[("bbox", "4,4,5,5")]).unwrap().matches(&i));
        // Inside the box, outside the band.
        assert!(!search(&[("bbox", "0.5,8,1.5,9")]).unwrap().matches(&i));
        assert!(!search(&[("bbox", "170,8,0.5,9")]).unwrap().matches(&i));
        assert!(search(&[("bbox", "170,0,0.5,1")]).unwrap().matches(&i));
    }

    #[test]
    fn filters() {
        let i = item([0.0, 0.0, 10.0, 10.0], "2020-01-01", "2020-01-31");
        assert!(search(&[("bbox", "5,5,20,20")]).unwrap().matches(&i));
        assert!(!search(&[("bbox", "11,5,20,20")]).unwrap().matches(&i));
        assert!(search(&[("bbox", "170,-5,5,5")]).unwrap().matches(&i)); // antimeridian
        assert!(
            search(&[("datetime", "2020-01-15T00:00:00Z")])
                .unwrap()
                .matches(&i)
        );
        assert!(
            search(&[("datetime", "../2020-01-01T00:00:00Z")])
                .unwrap()
                .matches(&i)
        );
        assert!(
            !search(&[("datetime", "2020-02-01T00:00:00Z/..")])
                .unwrap()
                .matches(&i)
        );
        assert!(!search(&[("collections", "other")]).unwrap().matches(&i));
        assert!(search(&[("ids", "y,x")]).unwrap().matches(&i));
        let tri = r#"{"type":"Polygon","coordinates":[[[9,9],[30,9],[30,30],[9,9]]]}"#;
        assert!(search(&[("intersects", tri)]).unwrap().matches(&i));
        let far = r#"{"type":"Point","coordinates":[50,50]}"#;
        assert!(!search(&[("intersects", far)]).unwrap().matches(&i));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(search(&[("bbox", "1,2,3")]).is_err());
        assert!(search(&[("bbox", "a,b,c,d")]).is_err());
        assert!(search(&[("bbox", "0,NaN,1,1")]).is_err());
        assert!(search(&[("bbox", "0,5,1,4")]).is_err());
        assert!(search(&[("datetime", "yesterday")]).is_err());
        assert!(search(&[("datetime", "2021-01-01/2020-01-01")]).is_err());
        assert!(search(&[("limit", "0")]).is_err());
        assert!(search(&[("token", "bogus")]).is_err());
        assert!(search(&[("intersects", "{\"type\":\"Blob\"}")]).is_err());
    }
}
