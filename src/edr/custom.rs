//! Custom dimensions (OGC API EDR 1.1): a gridded variable's dimensions beyond the
//! horizontal, time and vertical ones, each with a 1-D coordinate variable (a GRIB
//! forecast's `step`, an ensemble's `number`). The collection lists them in
//! `extent.custom`; a query selects them with `{id}=value`, a list `a,b` or a range
//! `a/b`, and without it gets each dimension's first value. The answer holds one
//! coverage per selected combination, each naming its values (CoverageJSON: the
//! domain's `custom` member; CSV/GeoJSON: a column / property per dimension; NetCDF:
//! an attribute).

use serde_json::{Value, json};

use super::collection::{Collection, Group};
use super::coverage::Coverage;
use super::error::{EdrError, EdrResult};
use crate::model::{AttributeList, Variable};

/// Query parameters a custom dimension's id may not take (they mean something else).
const RESERVED: &[&str] = &[
    "f",
    "crs",
    "datetime",
    "parameter-name",
    "parameter_names",
    "parameter-names",
    "z",
    "coords",
    "bbox",
    "within",
    "within-units",
    "corridor-width",
    "corridor-height",
    "width-units",
    "height-units",
    "resolution-x",
    "resolution-y",
    "resolution-z",
    "limit",
    "x",
    "y",
    "t",
    "composite",
];

/// One custom dimension of a group.
#[derive(Debug, Clone)]
pub struct CustomAxis {
    /// The dimension's name: the query parameter and the domain axis.
    pub id: String,
    pub dim: usize,
    pub values: Vec<f64>,
    /// The coordinate variable's units (or its long name): the extent's `reference`.
    pub reference: String,
}

impl CustomAxis {
    /// A custom axis for dimension `dim` from its 1-D coordinate variable's values;
    /// `None` when the name is a reserved query parameter or a value is missing.
    pub fn new(dim: usize, coord: &Variable, values: Vec<f64>) -> Option<CustomAxis> {
        let id = coord.dims.first()?.name.clone();
        if RESERVED.contains(&id.as_str()) || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        // Units say what the values are, unless they are "1" (a count, a member id):
        // then the name does.
        let reference = coord
            .attributes
            .attr_text("units")
            .filter(|u| !u.trim().is_empty() && u.trim() != "1")
            .or_else(|| coord.attributes.attr_text("long_name"))
            .or_else(|| coord.attributes.attr_text("standard_name"))
            .unwrap_or_else(|| id.clone());
        Some(CustomAxis {
            id,
            dim,
            values,
            reference,
        })
    }
}

/// A value chosen on a custom dimension, fixed for one coverage.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixed {
    pub id: String,
    pub dim: usize,
    pub index: usize,
    pub value: f64,
}

/// A query's selection on one custom dimension.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomSel {
    Values(Vec<f64>),
    Interval(f64, f64),
}

/// Parses `v`, `a,b,c` or `a/b` (numbers, in the coordinate's units).
pub fn parse(id: &str, text: &str) -> EdrResult<CustomSel> {
    let num = |s: &str| -> EdrResult<f64> {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| EdrError::bad(format!("{id}: {s:?} is not a number")))
    };
    if let Some((a, b)) = text.split_once('/') {
        let (a, b) = (num(a)?, num(b)?);
        return Ok(CustomSel::Interval(a.min(b), a.max(b)));
    }
    let values = text.split(',').map(num).collect::<EdrResult<Vec<f64>>>()?;
    Ok(CustomSel::Values(values))
}

/// Indices of `axis` a selection picks, in axis order (the first index when absent).
pub fn indices(axis: &CustomAxis, sel: Option<&CustomSel>) -> EdrResult<Vec<usize>> {
    let matches = |v: f64, x: f64| (v - x).abs() <= 1e-9 * v.abs().max(x.abs()).max(1.0);
    let picked: Vec<usize> = match sel {
        None => return Ok(if axis.values.is_empty() { vec![] } else { vec![0] }),
        Some(CustomSel::Values(xs)) => (0..axis.values.len())
            .filter(|&i| xs.iter().any(|&x| matches(axis.values[i], x)))
            .collect(),
        Some(CustomSel::Interval(lo, hi)) => (0..axis.values.len())
            .filter(|&i| {
                let v = axis.values[i];
                (v >= *lo || matches(v, *lo)) && (v <= *hi || matches(v, *hi))
            })
            .collect(),
    };
    if picked.is_empty() {
        return Err(EdrError::bad(format!(
            "{}: no value of the dimension matches; it has {}",
            axis.id,
            listed(&axis.values)
        )));
    }
    Ok(picked)
}

fn listed(values: &[f64]) -> String {
    let shown: Vec<String> = values.iter().take(20).map(|v| v.to_string()).collect();
    let more = if values.len() > 20 { ", …" } else { "" };
    format!("{}{more}", shown.join(", "))
}

/// The ids of the collection's custom dimensions (each once).
pub fn ids(col: &Collection) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in col.groups.iter().flat_map(|g| &g.custom) {
        if !out.contains(&a.id) {
            out.push(a.id.clone());
        }
    }
    out
}

/// The custom-dimension selections among a query's parameters.
pub fn selections(
    col: &Collection,
    get: impl Fn(&str) -> Option<String>,
) -> EdrResult<Vec<(String, CustomSel)>> {
    let mut out = Vec::new();
    for id in ids(col) {
        if let Some(v) = get(&id) {
            out.push((id.clone(), parse(&id, &v)?));
        }
    }
    Ok(out)
}

/// Each coverage repeated for every combination of the values selected on its group's
/// custom dimensions (one coverage per step, per member, ...).
pub fn expand(
    col: &Collection,
    sels: &[(String, CustomSel)],
    covs: Vec<Coverage>,
) -> EdrResult<Vec<Coverage>> {
    let mut out = Vec::with_capacity(covs.len());
    for cov in covs {
        let group: &Group = &col.groups[cov.group];
        let mut combos: Vec<Vec<Fixed>> = vec![Vec::new()];
        for axis in &group.custom {
            let sel = sels.iter().find(|(id, _)| *id == axis.id).map(|(_, s)| s);
            let picked = indices(axis, sel)?;
            combos = combos
                .into_iter()
                .flat_map(|fixed| {
                    picked.iter().map(move |&i| {
                        let mut f = fixed.clone();
                        f.push(Fixed {
                            id: axis.id.clone(),
                            dim: axis.dim,
                            index: i,
                            value: axis.values[i],
                        });
                        f
                    })
                })
                .collect();
        }
        for fixed in combos {
            let mut c = cov.clone();
            c.fixed = fixed;
            out.push(c);
        }
    }
    Ok(out)
}

/// The collection extent's `custom` member, or `None` when it has no custom dimension.
pub fn extent(col: &Collection) -> Option<Value> {
    let mut entries = Vec::new();
    for id in ids(col) {
        let axes: Vec<&CustomAxis> = col
            .groups
            .iter()
            .flat_map(|g| &g.custom)
            .filter(|a| a.id == id)
            .collect();
        let mut values: Vec<f64> = axes.iter().flat_map(|a| a.values.iter().copied()).collect();
        values.sort_by(f64::total_cmp);
        values.dedup();
        let (lo, hi) = (values[0], values[values.len() - 1]);
        entries.push(json!({
            "id": id,
            "interval": [[lo, hi]],
            "values": values.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            "reference": axes[0].reference,
        }));
    }
    (!entries.is_empty()).then(|| Value::Array(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step() -> CustomAxis {
        CustomAxis {
            id: "step".into(),
            dim: 1,
            values: vec![0.0, 6.0, 12.0, 18.0],
            reference: "hours".into(),
        }
    }

    #[test]
    fn selections_parse_and_pick_indices() {
        let a = step();
        assert_eq!(indices(&a, None).unwrap(), vec![0]);
        let one = parse("step", "6").unwrap();
        assert_eq!(indices(&a, Some(&one)).unwrap(), vec![1]);
        let list = parse("step", "18, 0").unwrap();
        assert_eq!(indices(&a, Some(&list)).unwrap(), vec![0, 3]);
        let range = parse("step", "12/5").unwrap();
        assert_eq!(range, CustomSel::Interval(5.0, 12.0));
        assert_eq!(indices(&a, Some(&range)).unwrap(), vec![1, 2]);
        let none = parse("step", "7").unwrap();
        let err = indices(&a, Some(&none)).unwrap_err().to_string();
        assert!(err.contains("0, 6, 12, 18"), "{err}");
        assert!(parse("step", "six").is_err());
        assert!(parse("step", "1/").is_err());
        assert!(parse("step", "inf").is_err());
    }
}
