//! CoverageJSON: a Coverage (or a CoverageCollection when the answer has several
//! domains), domain axes ordered t, z, y, x, decoded values with missing data as null.
//! Domains and parameters are built as JSON values; range values are streamed.

use std::sync::Arc;

use serde_json::{Value, json};

use super::body::{Out, push_number};
use super::collection::{Collection, Group, Param};
use super::coverage::{Coord, Coverage};
use super::error::EdrResult;
use crate::model::cf::Calendar;

pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

fn coord_json(c: &Coord) -> Value {
    match c {
        Coord::Time(t) => Value::String(t.clone()),
        Coord::Num(v) if v.is_finite() => json!(v),
        Coord::Num(_) => Value::Null,
    }
}

pub fn calendar_system(cal: Calendar) -> Value {
    match cal {
        Calendar::Standard | Calendar::ProlepticGregorian => {
            json!({"type": "TemporalRS", "calendar": "Gregorian"})
        }
        other => json!({
            "type": "TemporalRS",
            "calendar": "http://www.cfconventions.org/cf-conventions/cf-conventions.html#calendar",
            "description": {"en": format!("CF calendar {other:?}")},
        }),
    }
}

fn referencing(group: &Group, cov: &Coverage) -> Value {
    let has = |c: &str| cov.axes.iter().any(|a| a.components.contains(&c));
    let mut refs = vec![json!({
        "coordinates": ["x", "y"],
        "system": {"type": "GeographicCRS", "id": CRS84},
    })];
    if has("t")
        && let Some(t) = &group.t
    {
        refs.push(json!({"coordinates": ["t"], "system": calendar_system(t.units.calendar)}));
    }
    if has("z")
        && let Some(z) = &group.z
    {
        let mut axis = json!({
            "name": {"en": z.name},
            "direction": if z.positive_down { "down" } else { "up" },
        });
        if !z.units.is_empty() {
            axis["unit"] = json!({"symbol": z.units});
        }
        refs.push(json!({
            "coordinates": ["z"],
            "system": {"type": "VerticalCRS", "cs": {"csAxes": [axis]}},
        }));
    }
    Value::Array(refs)
}

/// The domain object of a coverage.
pub fn domain(group: &Group, cov: &Coverage) -> Value {
    let mut axes = serde_json::Map::new();
    for ax in &cov.axes {
        let v = if ax.name == "composite" {
            let values: Vec<Value> = (0..ax.len())
                .map(|k| Value::Array(ax.coord(k).iter().map(coord_json).collect()))
                .collect();
            json!({"dataType": "tuple", "coordinates": ax.components, "values": values})
        } else {
            json!({"values": ax.coords.iter().map(coord_json).collect::<Vec<_>>()})
        };
        axes.insert(ax.name.to_string(), v);
    }
    let mut domain = json!({
        "type": "Domain",
        "domainType": cov.domain_type,
        "axes": axes,
        "referencing": referencing(group, cov),
    });
    // The values chosen on custom dimensions (a forecast step): a member of their own,
    // as the domain types allow no axes besides x, y, z and t (covjson-pydantic
    // rejects other axes).
    if !cov.fixed.is_empty() {
        let custom: serde_json::Map<String, Value> = cov
            .fixed
            .iter()
            .map(|f| (f.id.clone(), json!(f.value)))
            .collect();
        domain["custom"] = Value::Object(custom);
    }
    domain
}

/// The Parameter object of a parameter.
pub fn parameter(p: &Param) -> Value {
    let mut obs = json!({"label": {"en": p.label()}});
    if let Some(sn) = p.text("standard_name") {
        obs["id"] = json!(format!(
            "http://vocab.nerc.ac.uk/standard_name/{}/",
            sn.trim()
        ));
    }
    let mut v = json!({
        "type": "Parameter",
        "id": p.name,
        "label": {"en": p.label()},
        "observedProperty": obs,
    });
    if let Some(d) = p.text("long_name") {
        v["description"] = json!({"en": d});
    }
    if let Some(u) = p.units() {
        v["unit"] = json!({"label": {"en": u}, "symbol": u});
    }
    v
}

fn data_type(p: &Param) -> &'static str {
    if p.integer { "integer" } else { "float" }
}

/// Writes one coverage; `parameters` are left out inside a collection (given once
/// at its top).
async fn write_coverage(
    col: &Collection,
    cov: &Coverage,
    with_params: bool,
    block_bytes: usize,
    out: &mut Out,
) -> EdrResult<()> {
    let group = &col.groups[cov.group];
    out.push("{\"type\":\"Coverage\",\"domain\":");
    out.push(&domain(group, cov).to_string());
    if with_params {
        let params: serde_json::Map<String, Value> = cov
            .params
            .iter()
            .map(|&i| (col.params[i].name.clone(), parameter(&col.params[i])))
            .collect();
        out.push(",\"parameters\":");
        out.push(&Value::Object(params).to_string());
    }
    out.push(",\"ranges\":{");
    let range_axes = cov.range_axes();
    let names: Vec<&str> = range_axes.iter().map(|&k| cov.axes[k].name).collect();
    let shape: Vec<usize> = range_axes.iter().map(|&k| cov.axes[k].len()).collect();
    for (n, &pi) in cov.params.iter().enumerate() {
        let p = &col.params[pi];
        if n > 0 {
            out.push(",");
        }
        out.push(&format!(
            "{}:{{\"type\":\"NdArray\",\"dataType\":\"{}\",\"axisNames\":{},\"shape\":{},\"values\":[",
            json!(p.name),
            data_type(p),
            json!(names),
            json!(shape)
        ));
        let mut first = true;
        for chunk in cov.chunks(p.elem_size(), block_bytes) {
            let values = cov.read_chunk(&col.ds, p, chunk).await?;
            for v in values {
                if !first {
                    out.buf.push(b',');
                }
                first = false;
                push_number(&mut out.buf, v, p.single, p.integer);
            }
            out.maybe_flush().await?;
        }
        out.push("]}");
    }
    out.push("}}");
    Ok(())
}

/// Writes the whole answer.
pub async fn write(
    col: Arc<Collection>,
    covs: Vec<Coverage>,
    block_bytes: usize,
    mut out: Out,
) -> EdrResult<Out> {
    if covs.len() == 1 {
        write_coverage(&col, &covs[0], true, block_bytes, &mut out).await?;
        return Ok(out);
    }
    let mut params = serde_json::Map::new();
    for cov in &covs {
        for &i in &cov.params {
            params.insert(col.params[i].name.clone(), parameter(&col.params[i]));
        }
    }
    out.push("{\"type\":\"CoverageCollection\",");
    let first_type = covs[0].domain_type;
    if covs.iter().all(|c| c.domain_type == first_type) {
        out.push(&format!("\"domainType\":\"{first_type}\","));
    }
    out.push("\"parameters\":");
    out.push(&Value::Object(params).to_string());
    out.push(",\"coverages\":[");
    for (k, cov) in covs.iter().enumerate() {
        if k > 0 {
            out.push(",");
        }
        write_coverage(&col, cov, false, block_bytes, &mut out).await?;
        out.maybe_flush().await?;
    }
    out.push("]}");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edr::collection::{Horizontal, TimeAxis};
    use crate::edr::coverage::OutAxis;
    use crate::model::cf::TimeUnits;
    use crate::subset::{CoordAxis, RectilinearGrid};

    fn group() -> Group {
        let units = TimeUnits::parse("days since 2000-01-01", Some("noleap")).unwrap();
        Group {
            dims: vec![],
            horizontal: Horizontal::Rect {
                grid: RectilinearGrid::new(
                    CoordAxis::new(vec![0.0, 20.0]).unwrap(),
                    CoordAxis::new(vec![5.0, -5.0]).unwrap(),
                ),
                xdim: 2,
                ydim: 1,
            },
            t: Some(TimeAxis {
                var: crate::model::Variable {
                    name: "time".into(),
                    path: "/time".into(),
                    dims: vec![],
                    dtype: crate::model::DataType::F64,
                    attributes: vec![],
                    chunks: None,
                },
                dim: 0,
                axis: CoordAxis::new(vec![0.0, 31.0]).unwrap(),
                units,
                iso: vec!["2000-01-01T00:00:00Z".into(), "2000-02-01T00:00:00Z".into()],
            }),
            z: None,
            custom: Vec::new(),
        }
    }

    #[test]
    fn point_series_domain() {
        let cov = Coverage {
            group: 0,
            domain_type: "PointSeries",
            axes: vec![
                OutAxis::simple(
                    "t",
                    0,
                    vec![0, 1],
                    vec![
                        Coord::Time("2000-01-01T00:00:00Z".into()),
                        Coord::Time("2000-02-01T00:00:00Z".into()),
                    ],
                ),
                OutAxis::simple("y", 1, vec![1], vec![Coord::Num(-5.0)]),
                OutAxis::simple("x", 2, vec![1], vec![Coord::Num(20.0)]),
            ],
            mask: None,
            params: vec![0],
            rank: 3,
            fixed: Vec::new(),
        };
        let expected = json!({
            "type": "Domain",
            "domainType": "PointSeries",
            "axes": {
                "t": {"values": ["2000-01-01T00:00:00Z", "2000-02-01T00:00:00Z"]},
                "y": {"values": [-5.0]},
                "x": {"values": [20.0]},
            },
            "referencing": [
                {"coordinates": ["x", "y"], "system": {"type": "GeographicCRS", "id": CRS84}},
                {"coordinates": ["t"], "system": {
                    "type": "TemporalRS",
                    "calendar": "http://www.cfconventions.org/cf-conventions/cf-conventions.html#calendar",
                    "description": {"en": "CF calendar NoLeap"},
                }},
            ],
        });
        assert_eq!(domain(&group(), &cov), expected);
        assert_eq!(cov.range_axes(), vec![0]);
    }

    #[test]
    fn trajectory_composite_domain() {
        let cov = Coverage {
            group: 0,
            domain_type: "Trajectory",
            axes: vec![OutAxis {
                name: "composite",
                components: vec!["t", "x", "y"],
                dims: vec![0, 1, 2],
                tuples: vec![0, 0, 0, 1, 1, 1],
                coords: vec![
                    Coord::Time("2000-01-01T00:00:00Z".into()),
                    Coord::Num(0.0),
                    Coord::Num(5.0),
                    Coord::Time("2000-02-01T00:00:00Z".into()),
                    Coord::Num(20.0),
                    Coord::Num(f64::NAN),
                ],
            }],
            mask: None,
            params: vec![0],
            rank: 3,
            fixed: Vec::new(),
        };
        let d = domain(&group(), &cov);
        assert_eq!(
            d["axes"]["composite"],
            json!({
                "dataType": "tuple",
                "coordinates": ["t", "x", "y"],
                "values": [["2000-01-01T00:00:00Z", 0.0, 5.0], ["2000-02-01T00:00:00Z", 20.0, null]],
            })
        );
        assert_eq!(
            calendar_system(Calendar::ProlepticGregorian)["calendar"],
            "Gregorian"
        );
    }
}
