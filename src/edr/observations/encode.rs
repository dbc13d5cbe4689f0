//! The observations a query picked, read from the file and written as CoverageJSON
//! (`PointSeries` for station series, `VerticalProfile` for profiles, `Trajectory` for
//! tracks, `Point` for points; a `CoverageCollection` for several, and always one of
//! `VerticalProfile`s for the profiles of stations and trajectories), GeoJSON (one
//! Point feature per observation) or CSV (one row per observation).

use serde_json::{Map, Value, json};

use super::super::collection::Param;
use super::super::covjson::{CRS84, calendar_system, parameter};
use super::super::error::EdrResult;
use super::collection::ObsCollection;
use super::select::Picked;
use crate::features::{Feature, FeatureType, read_observations};

/// One feature's picked observations with the values of the requested parameters.
pub struct FeatureData {
    pub picked: Picked,
    /// One list per requested parameter, parallel to `picked.obs`.
    pub values: Vec<Vec<f64>>,
}

/// Reads the requested parameters at the picked observations.
pub async fn read(
    col: &ObsCollection,
    picked: Vec<Picked>,
    params: &[usize],
) -> EdrResult<Vec<FeatureData>> {
    let mut out = Vec::with_capacity(picked.len());
    for p in picked {
        let f = &col.index.features[p.feature];
        let mut values = Vec::with_capacity(params.len());
        for &pi in params {
            let var = &col.params[pi].var;
            let v = read_observations(&*col.ds, &col.index, f, var, &p.obs)
                .await
                .map_err(super::collection::edr_error)?;
            values.push(v);
        }
        out.push(FeatureData { picked: p, values });
    }
    Ok(out)
}

fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

fn domain_type(ft: FeatureType) -> &'static str {
    match ft {
        FeatureType::TimeSeries => "PointSeries",
        FeatureType::Profile | FeatureType::TimeSeriesProfile | FeatureType::TrajectoryProfile => {
            "VerticalProfile"
        }
        FeatureType::Trajectory => "Trajectory",
        FeatureType::Point => "Point",
    }
}

fn referencing(col: &ObsCollection, with_z: bool) -> Value {
    let mut refs = vec![json!({
        "coordinates": ["x", "y"],
        "system": {"type": "GeographicCRS", "id": CRS84},
    })];
    if let Some(u) = &col.index.time_units {
        refs.push(json!({"coordinates": ["t"], "system": calendar_system(u.calendar)}));
    }
    if with_z && let Some(z) = &col.index.schema.z {
        let down = z
            .attr("positive")
            .and_then(|a| a.as_text())
            .is_some_and(|p| p.eq_ignore_ascii_case("down"));
        let mut axis =
            json!({"name": {"en": z.name}, "direction": if down { "down" } else { "up" }});
        if let Some(u) = z.attr("units").and_then(|a| a.as_text()) {
            axis["unit"] = json!({"symbol": u});
        }
        refs.push(json!({"coordinates": ["z"], "system": {"type": "VerticalCRS", "cs": {"csAxes": [axis]}}}));
    }
    Value::Array(refs)
}

fn iso(col: &ObsCollection, t: f64) -> Value {
    col.index.iso(t).map_or(Value::Null, Value::String)
}

/// The domain of one feature's picked observations.
fn domain(col: &ObsCollection, f: &Feature, obs: &[usize]) -> (Value, Vec<&'static str>) {
    let ft = col.index.schema.feature_type;
    let has_t = col.index.time_units.is_some();
    let has_z = obs.iter().any(|&k| f.z(k).is_finite());
    let first = obs[0];
    let one = |v: Value| json!({"values": [v]});
    let many = |vals: Vec<Value>| json!({"values": vals});
    let mut axes = Map::new();
    let axis_names: Vec<&'static str> = match ft {
        FeatureType::Trajectory => {
            let mut comps = vec!["t", "x", "y"];
            if has_z {
                comps.push("z");
            }
            let values: Vec<Value> = obs
                .iter()
                .map(|&k| {
                    let mut tup = vec![iso(col, f.t(k)), num(f.x(k)), num(f.y(k))];
                    if has_z {
                        tup.push(num(f.z(k)));
                    }
                    Value::Array(tup)
                })
                .collect();
            axes.insert(
                "composite".into(),
                json!({"dataType": "tuple", "coordinates": comps, "values": values}),
            );
            vec!["composite"]
        }
        FeatureType::TimeSeries => {
            axes.insert("x".into(), one(num(f.x(first))));
            axes.insert("y".into(), one(num(f.y(first))));
            axes.insert(
                "t".into(),
                many(obs.iter().map(|&k| iso(col, f.t(k))).collect()),
            );
            if has_z {
                axes.insert("z".into(), one(num(f.z(first))));
            }
            vec!["t"]
        }
        FeatureType::Profile | FeatureType::TimeSeriesProfile | FeatureType::TrajectoryProfile => {
            axes.insert("x".into(), one(num(f.x(first))));
            axes.insert("y".into(), one(num(f.y(first))));
            if has_t && f.t(first).is_finite() {
                axes.insert("t".into(), one(iso(col, f.t(first))));
            }
            axes.insert("z".into(), many(obs.iter().map(|&k| num(f.z(k))).collect()));
            vec!["z"]
        }
        FeatureType::Point => {
            axes.insert("x".into(), one(num(f.x(first))));
            axes.insert("y".into(), one(num(f.y(first))));
            if has_t {
                axes.insert("t".into(), one(iso(col, f.t(first))));
            }
            if has_z {
                axes.insert("z".into(), one(num(f.z(first))));
            }
            vec![]
        }
    };
    let dom = json!({
        "type": "Domain",
        "domainType": domain_type(ft),
        "axes": axes,
        "referencing": referencing(col, has_z),
    });
    (dom, axis_names)
}

fn range(p: &Param, values: &[f64], axis_names: &[&str]) -> Value {
    let vals: Vec<Value> = values
        .iter()
        .map(|&v| match v {
            v if !v.is_finite() => Value::Null,
            v if p.integer => json!(v as i64),
            v if p.single => json!(v as f32),
            v => json!(v),
        })
        .collect();
    let mut r = json!({
        "type": "NdArray",
        "dataType": if p.integer { "integer" } else { "float" },
        "values": vals,
    });
    if !axis_names.is_empty() {
        r["axisNames"] = json!(axis_names);
        r["shape"] = json!([values.len()]);
    }
    r
}

fn parameters(col: &ObsCollection, params: &[usize]) -> Value {
    let m: Map<String, Value> = params
        .iter()
        .map(|&i| (col.params[i].name.clone(), parameter(&col.params[i])))
        .collect();
    Value::Object(m)
}

/// One coverage: observations `obs` of feature `f` with their values (one list per
/// parameter, parallel to `obs`).
fn coverage(
    col: &ObsCollection,
    f: &Feature,
    id: &str,
    obs: &[usize],
    values: &[&[f64]],
    params: &[usize],
    with_params: bool,
) -> Value {
    let (dom, axis_names) = domain(col, f, obs);
    let ranges: Map<String, Value> = params
        .iter()
        .zip(values)
        .map(|(&i, v)| {
            (
                col.params[i].name.clone(),
                range(&col.params[i], v, &axis_names),
            )
        })
        .collect();
    let mut cov = json!({"type": "Coverage", "id": id, "domain": dom, "ranges": ranges});
    if with_params {
        cov["parameters"] = parameters(col, params);
    }
    cov
}

/// The coverages of one feature's picked observations: one, or one per profile for
/// stations' and trajectories' profiles (id `{feature}@{profile time}`).
fn coverages(
    col: &ObsCollection,
    d: &FeatureData,
    params: &[usize],
    with_params: bool,
) -> Vec<Value> {
    let f = &col.index.features[d.picked.feature];
    let obs = &d.picked.obs;
    if !col.index.schema.feature_type.is_nested() {
        let values: Vec<&[f64]> = d.values.iter().map(Vec::as_slice).collect();
        return vec![coverage(col, f, &f.id, obs, &values, params, with_params)];
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start < obs.len() {
        let profile = f.profile_of(obs[start]);
        let end = start
            + obs[start..]
                .iter()
                .take_while(|&&k| f.profile_of(k) == profile)
                .count();
        let t = f.t(obs[start]);
        let id = match col.index.iso(t) {
            Some(iso) => format!("{}@{iso}", f.id),
            None => format!("{}@{}", f.id, profile.map_or(0, |p| p.index)),
        };
        let values: Vec<&[f64]> = d.values.iter().map(|v| &v[start..end]).collect();
        out.push(coverage(
            col,
            f,
            &id,
            &obs[start..end],
            &values,
            params,
            with_params,
        ));
        start = end;
    }
    out
}

/// CoverageJSON: one Coverage for one feature (`single`), a CoverageCollection
/// otherwise.
pub fn covjson(col: &ObsCollection, data: &[FeatureData], params: &[usize], single: bool) -> Value {
    if single && data.len() == 1 && !col.index.schema.feature_type.is_nested() {
        return coverages(col, &data[0], params, true).remove(0);
    }
    json!({
        "type": "CoverageCollection",
        "domainType": domain_type(col.index.schema.feature_type),
        "parameters": parameters(col, params),
        "referencing": referencing(col, col.index.schema.z.is_some()),
        "coverages": data.iter().flat_map(|d| coverages(col, d, params, false)).collect::<Vec<_>>(),
    })
}

/// GeoJSON: one Point feature per observation.
pub fn geojson(col: &ObsCollection, data: &[FeatureData], params: &[usize]) -> Value {
    let mut features = Vec::new();
    for d in data {
        let f = &col.index.features[d.picked.feature];
        for (j, &k) in d.picked.obs.iter().enumerate() {
            let mut props = Map::new();
            props.insert("id".into(), json!(f.id));
            if f.t(k).is_finite() {
                props.insert("datetime".into(), iso(col, f.t(k)));
            }
            if f.z(k).is_finite() {
                props.insert("z".into(), num(f.z(k)));
            }
            for (&pi, vals) in params.iter().zip(&d.values) {
                props.insert(col.params[pi].name.clone(), num(vals[j]));
            }
            features.push(json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [f.x(k), f.y(k)]},
                "properties": props,
            }));
        }
    }
    json!({"type": "FeatureCollection", "features": features})
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// CSV: `id,time,longitude,latitude,z,<parameters>`, one row per observation.
pub fn csv(col: &ObsCollection, data: &[FeatureData], params: &[usize]) -> String {
    let mut out = String::from("id,time,longitude,latitude,z");
    for &pi in params {
        out.push(',');
        out.push_str(&csv_field(&col.params[pi].name));
    }
    out.push('\n');
    let cell = |v: f64| {
        if v.is_finite() {
            v.to_string()
        } else {
            String::new()
        }
    };
    for d in data {
        let f = &col.index.features[d.picked.feature];
        for (j, &k) in d.picked.obs.iter().enumerate() {
            let t = col.index.iso(f.t(k)).unwrap_or_default();
            out.push_str(&format!(
                "{},{t},{},{},{}",
                csv_field(&f.id),
                cell(f.x(k)),
                cell(f.y(k)),
                cell(f.z(k))
            ));
            for vals in &d.values {
                out.push(',');
                out.push_str(&cell(vals[j]));
            }
            out.push('\n');
        }
    }
    out
}
