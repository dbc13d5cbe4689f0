//! The catalog search: free text over everything a dataset says about itself, a bbox,
//! a time range and three facets (collection, format, feature type), with facet counts
//! and pages. Pure: the cards come from `listing`, the query from the page's URL.

use serde::Serialize;

use crate::subset::BBox;

/// Results per page.
pub const PAGE_SIZE: usize = 20;

/// What the catalog knows of one dataset, for searching and listing.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub collection: String,
    pub format: String,
    pub feature_type: String,
    pub variables: Vec<String>,
    /// West, south, east, north (from the STAC index), when known.
    pub bbox: Option<[f64; 4]>,
    /// ISO 8601 instants (from the STAC index), when known.
    pub start: Option<String>,
    pub end: Option<String>,
    /// GeoJSON of an observation file's places or tracks, or a swath's outline.
    pub geometry: Option<serde_json::Value>,
    /// Lower-case text searched by `q`: id, title, variable names, standard and long
    /// names, attribute values.
    #[serde(skip)]
    pub text: String,
}

/// A facet: the field it filters and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    Collection,
    Format,
    FeatureType,
}

impl Facet {
    pub const ALL: [Facet; 3] = [Facet::Collection, Facet::Format, Facet::FeatureType];

    /// Its query parameter.
    pub fn param(self) -> &'static str {
        match self {
            Facet::Collection => "collection",
            Facet::Format => "format",
            Facet::FeatureType => "feature_type",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Facet::Collection => "Collection",
            Facet::Format => "Format",
            Facet::FeatureType => "Feature type",
        }
    }

    fn of(self, card: &Card) -> &str {
        match self {
            Facet::Collection => &card.collection,
            Facet::Format => &card.format,
            Facet::FeatureType => &card.feature_type,
        }
    }
}

/// A search as the catalog page's form sends it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub q: String,
    pub bbox: Option<BBox>,
    /// Inclusive bounds, ISO 8601 (a date alone is a whole day).
    pub start: Option<String>,
    pub end: Option<String>,
    pub collection: Option<String>,
    pub format: Option<String>,
    pub feature_type: Option<String>,
    /// From 1.
    pub page: usize,
}

/// A query parameter the page cannot use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

impl Query {
    /// Reads the form's parameters (`q`, `bbox=w,s,e,n`, `start`, `end`, the facets,
    /// `page`); empty fields are absent.
    pub fn parse(raw: Option<&str>) -> Result<Query, QueryError> {
        let mut q = Query {
            page: 1,
            ..Query::default()
        };
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let v = v.trim().to_string();
            if v.is_empty() {
                continue;
            }
            match k.as_ref() {
                "q" => q.q = v,
                "bbox" => q.bbox = Some(parse_bbox(&v)?),
                "start" => q.start = Some(parse_time(&v, "start")?),
                "end" => q.end = Some(parse_time(&v, "end")?),
                "collection" => q.collection = Some(v),
                "format" => q.format = Some(v),
                "feature_type" => q.feature_type = Some(v),
                "page" => {
                    q.page = v
                        .parse()
                        .ok()
                        .filter(|p| *p >= 1)
                        .ok_or_else(|| QueryError(format!("page={v}: not a page number")))?
                }
                _ => {}
            }
        }
        Ok(q)
    }

    fn facet(&self, facet: Facet) -> Option<&str> {
        match facet {
            Facet::Collection => self.collection.as_deref(),
            Facet::Format => self.format.as_deref(),
            Facet::FeatureType => self.feature_type.as_deref(),
        }
    }

    /// Text, place and time match (facets aside).
    fn matches_content(&self, card: &Card) -> bool {
        let terms_match = self
            .q
            .to_lowercase()
            .split_whitespace()
            .all(|t| card.text.contains(t));
        let place_match = match (&self.bbox, card.bbox) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(want), Some([w, s, e, n])) => {
                BBox::new(w, s, e, n).is_ok_and(|b| b.intersects(want))
            }
        };
        // ISO 8601 strings of 4-digit years order as their instants.
        let after_start = match (&self.start, &card.end) {
            (Some(s), Some(e)) => e.as_str() >= s.as_str(),
            (Some(_), None) => false,
            (None, _) => true,
        };
        let before_end = match (&self.end, &card.start) {
            (Some(e), Some(s)) => s.as_str() <= e.as_str(),
            (Some(_), None) => false,
            (None, _) => true,
        };
        terms_match && place_match && after_start && before_end
    }

    fn matches_facets_except(&self, card: &Card, except: Option<Facet>) -> bool {
        Facet::ALL
            .iter()
            .filter(|f| Some(**f) != except)
            .all(|f| self.facet(*f).is_none_or(|v| f.of(card) == v))
    }
}

fn parse_bbox(v: &str) -> Result<BBox, QueryError> {
    let bad = || QueryError(format!("bbox={v}: need west,south,east,north in degrees"));
    let n: Vec<f64> = v
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let [w, s, e, n] = n[..] else {
        return Err(bad());
    };
    BBox::new(w, s, e, n).map_err(|e| QueryError(format!("bbox={v}: {e}")))
}

/// `YYYY-MM-DD` or a full ISO instant; a date alone covers its whole day.
fn parse_time(v: &str, which: &str) -> Result<String, QueryError> {
    let bytes = v.as_bytes();
    let date_ok = bytes.len() >= 10
        && bytes[..10].iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !date_ok || !v.is_ascii() {
        return Err(QueryError(format!(
            "{which}={v}: need a date (YYYY-MM-DD) or an ISO 8601 instant"
        )));
    }
    Ok(match (v.len(), which) {
        (10, "end") => format!("{v}T23:59:59.999Z"),
        (10, _) => format!("{v}T00:00:00Z"),
        _ => v.to_string(),
    })
}

/// One value of a facet with how many datasets have it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FacetValue {
    pub value: String,
    pub count: usize,
    pub selected: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FacetCounts {
    pub param: &'static str,
    pub label: &'static str,
    pub values: Vec<FacetValue>,
}

/// A page of results.
#[derive(Debug, Serialize)]
pub struct Results<'a> {
    pub hits: Vec<&'a Card>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub facets: Vec<FacetCounts>,
}

/// Filters, counts and pages `cards` by `query`.
pub fn search<'a>(cards: &'a [Card], query: &Query) -> Results<'a> {
    let content: Vec<&Card> = cards.iter().filter(|c| query.matches_content(c)).collect();
    // Each facet counts over the matches of everything else, so a person sees what
    // choosing another value would give.
    let facets = Facet::ALL
        .iter()
        .map(|f| {
            let mut values: Vec<FacetValue> = Vec::new();
            for c in content
                .iter()
                .filter(|c| query.matches_facets_except(c, Some(*f)))
            {
                let v = f.of(c);
                match values.iter_mut().find(|x| x.value == v) {
                    Some(x) => x.count += 1,
                    None => values.push(FacetValue {
                        value: v.to_string(),
                        count: 1,
                        selected: query.facet(*f) == Some(v),
                    }),
                }
            }
            values.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
            FacetCounts {
                param: f.param(),
                label: f.label(),
                values,
            }
        })
        .collect();
    let all: Vec<&Card> = content
        .into_iter()
        .filter(|c| query.matches_facets_except(c, None))
        .collect();
    let total = all.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.min(pages);
    let hits = all
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    Results {
        hits,
        total,
        page,
        pages,
        facets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(id: &str, collection: &str, format: &str, text: &str) -> Card {
        Card {
            id: id.into(),
            title: id.into(),
            summary: String::new(),
            collection: collection.into(),
            format: format.into(),
            feature_type: "grid".into(),
            variables: vec![],
            bbox: Some([0.0, 0.0, 10.0, 10.0]),
            start: Some("2000-01-01T00:00:00Z".into()),
            end: Some("2000-01-31T00:00:00Z".into()),
            geometry: None,
            text: format!("{id} {text}").to_lowercase(),
        }
    }

    fn cards() -> Vec<Card> {
        let mut far = card(
            "far.nc",
            "datasets",
            "netcdf",
            "sea_surface_temperature sst",
        );
        far.bbox = Some([100.0, -40.0, 120.0, -20.0]);
        far.start = Some("2010-06-01T00:00:00Z".into());
        far.end = Some("2010-06-30T00:00:00Z".into());
        let mut timeless = card("static.tif", "datasets", "geotiff", "elevation");
        timeless.bbox = None;
        timeless.start = None;
        timeless.end = None;
        vec![
            card("a.nc", "daily", "netcdf", "sea_surface_temperature sst"),
            card("b.grib", "datasets", "grib", "air_temperature"),
            far,
            timeless,
        ]
    }

    fn ids(r: &Results<'_>) -> Vec<String> {
        r.hits.iter().map(|c| c.id.clone()).collect()
    }

    #[test]
    fn every_term_must_appear_case_insensitive() {
        let cs = cards();
        let q = Query::parse(Some("q=SEA_surface+sst")).unwrap();
        assert_eq!(ids(&search(&cs, &q)), ["a.nc", "far.nc"]);
        let q = Query::parse(Some("q=temperature+grib")).unwrap();
        assert_eq!(ids(&search(&cs, &q)), ["b.grib"]);
        let q = Query::parse(Some("q=")).unwrap();
        assert_eq!(search(&cs, &q).total, 4);
    }

    #[test]
    fn bbox_and_time_need_a_known_extent() {
        let cs = cards();
        let q = Query::parse(Some("bbox=90,-50,130,0")).unwrap();
        assert_eq!(ids(&search(&cs, &q)), ["far.nc"]);
        let q = Query::parse(Some("start=2000-01-31&end=2000-02-10")).unwrap();
        assert_eq!(ids(&search(&cs, &q)), ["a.nc", "b.grib"]);
        // The end date is inclusive: the whole day.
        let q = Query::parse(Some("end=2010-06-01")).unwrap();
        assert_eq!(ids(&search(&cs, &q)), ["a.nc", "b.grib", "far.nc"]);
    }

    #[test]
    fn facets_count_the_other_filters_and_filter() {
        let cs = cards();
        let q = Query::parse(Some("format=netcdf")).unwrap();
        let r = search(&cs, &q);
        assert_eq!(ids(&r), ["a.nc", "far.nc"]);
        let formats = &r.facets[1];
        assert_eq!(formats.param, "format");
        // The format facet ignores its own choice: every format stays offered.
        assert_eq!(formats.values.len(), 3);
        assert!(
            formats
                .values
                .iter()
                .any(|v| v.value == "netcdf" && v.selected && v.count == 2)
        );
        let collections = &r.facets[0];
        assert_eq!(
            collections.values,
            [
                FacetValue {
                    value: "daily".into(),
                    count: 1,
                    selected: false
                },
                FacetValue {
                    value: "datasets".into(),
                    count: 1,
                    selected: false
                },
            ]
        );
    }

    #[test]
    fn pages_and_bad_parameters() {
        let many: Vec<Card> = (0..45)
            .map(|i| card(&format!("d{i:02}.nc"), "c", "netcdf", ""))
            .collect();
        let r = search(&many, &Query::parse(Some("page=3")).unwrap());
        assert_eq!((r.total, r.pages, r.page, r.hits.len()), (45, 3, 3, 5));
        // Past the end: the last page.
        let r = search(&many, &Query::parse(Some("page=9")).unwrap());
        assert_eq!(r.page, 3);
        for bad in [
            "page=0",
            "page=x",
            "bbox=1,2,3",
            "bbox=a,b,c,d",
            "bbox=0,10,5,0",
            "start=yesterday",
            "end=2000-1-1",
        ] {
            assert!(Query::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
