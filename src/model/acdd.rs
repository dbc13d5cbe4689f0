//! ACDD discovery attributes (`time_coverage_start`, `geospatial_lat_min`, …): the
//! extent a file declares for itself, for files whose coordinates do not give one
//! (level-2 granules described only by their global attributes).

use super::DatasetMeta;
use super::cf::CfDateTime;

/// What the global attributes declare; each part only when complete and valid.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DeclaredExtent {
    /// West, south, east, north, as written (longitudes may be 0..360 or west > east).
    pub lon_lat: Option<[f64; 4]>,
    /// Start and end; a lone start or end stands for both.
    pub time: Option<(CfDateTime, CfDateTime)>,
}

fn number(meta: &DatasetMeta, name: &str) -> Option<f64> {
    let a = meta.attributes().iter().find(|a| a.name == name)?;
    // Some writers store the numbers as text.
    let v = a
        .value
        .as_f64()
        .or_else(|| a.value.as_text()?.trim().parse().ok())?;
    v.is_finite().then_some(v)
}

fn date(meta: &DatasetMeta, name: &str) -> Option<CfDateTime> {
    let a = meta.attributes().iter().find(|a| a.name == name)?;
    CfDateTime::parse(&a.value.as_text()?).ok()
}

impl DeclaredExtent {
    pub fn of(meta: &DatasetMeta) -> DeclaredExtent {
        let lon_lat = match (
            number(meta, "geospatial_lon_min"),
            number(meta, "geospatial_lat_min"),
            number(meta, "geospatial_lon_max"),
            number(meta, "geospatial_lat_max"),
        ) {
            (Some(w), Some(s), Some(e), Some(n)) if s <= n => Some([w, s, e, n]),
            _ => None,
        };
        let time = match (
            date(meta, "time_coverage_start"),
            date(meta, "time_coverage_end"),
        ) {
            (Some(a), Some(b)) => Some((a, b)),
            (Some(a), None) => Some((a, a)),
            (None, Some(b)) => Some((b, b)),
            (None, None) => None,
        };
        DeclaredExtent { lon_lat, time }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttrValue, Attribute, Group};

    fn meta(attrs: Vec<(&str, AttrValue)>) -> DatasetMeta {
        DatasetMeta {
            root: Group {
                path: "/".into(),
                attributes: attrs
                    .into_iter()
                    .map(|(k, v)| Attribute::new(k, v))
                    .collect(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn granule_attributes() {
        let m = meta(vec![
            (
                "time_coverage_start",
                AttrValue::Text("2021-06-01T10:00:00Z".into()),
            ),
            (
                "time_coverage_end",
                AttrValue::Text("2021-06-01T10:05:30Z".into()),
            ),
            ("geospatial_lat_min", AttrValue::F64(vec![-10.0])),
            ("geospatial_lat_max", AttrValue::F32(vec![5.5])),
            ("geospatial_lon_min", AttrValue::Text("100".into())),
            ("geospatial_lon_max", AttrValue::F64(vec![120.0])),
        ]);
        let d = DeclaredExtent::of(&m);
        assert_eq!(d.lon_lat, Some([100.0, -10.0, 120.0, 5.5]));
        let (a, b) = d.time.unwrap();
        assert_eq!(a.to_iso(), "2021-06-01T10:00:00Z");
        assert_eq!(b.to_iso(), "2021-06-01T10:05:30Z");
    }

    #[test]
    fn incomplete_or_invalid_attributes_declare_nothing() {
        let m = meta(vec![
            ("time_coverage_start", AttrValue::Text("not a date".into())),
            ("geospatial_lat_min", AttrValue::F64(vec![10.0])),
            ("geospatial_lat_max", AttrValue::F64(vec![-10.0])),
            ("geospatial_lon_min", AttrValue::F64(vec![0.0])),
            ("geospatial_lon_max", AttrValue::F64(vec![1.0])),
        ]);
        assert_eq!(DeclaredExtent::of(&m), DeclaredExtent::default());
    }
}
