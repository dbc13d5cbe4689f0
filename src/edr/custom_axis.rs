//! One custom dimension (OGC API EDR 1.1) of a group: its values, and a query's
//! selection on it (`{id}=value`, `a,b`, `a/b`) turned into indices. What a
//! collection and its answers make of them: `custom.rs`.

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
        None => {
            return Ok(if axis.values.is_empty() {
                vec![]
            } else {
                vec![0]
            });
        }
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
