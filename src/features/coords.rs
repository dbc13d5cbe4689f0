//! What building an index reads whole, once: coordinate variables (physical values,
//! addressed by instance and row), integer counts and indexes, feature ids; and the
//! small geometry helpers shared by one- and two-level layouts.

use std::collections::HashSet;

use super::schema::{Level, Schema};
use super::{ArraySource, DsgError};
use crate::model::cf::Packing;
use crate::model::{ArrayValues, Variable};
use crate::subset::Hyperslab;

/// A coordinate variable's physical values, addressed by (instance, row).
pub struct Coord {
    pub values: Vec<f64>,
    pub level: Level,
    pub instances: usize,
    rows: usize,
}

impl Coord {
    pub async fn read(
        src: &dyn ArraySource,
        schema: &Schema,
        v: &Variable,
    ) -> Result<Coord, DsgError> {
        let level = schema.level(v).ok_or_else(|| {
            DsgError::malformed(format!("{} is not on the features' dimensions", v.name))
        })?;
        let arr = src
            .read_array(&v.path, &Hyperslab::full(&v.shape()))
            .await?;
        Ok(Coord {
            values: Packing::of(v).decode_values(&arr.values),
            level,
            instances: schema.instances(),
            rows: schema.obs_dim.len,
        })
    }

    /// The value at `row` of feature `inst`; NaN outside the array (never a panic).
    pub fn at(&self, inst: usize, row: usize) -> f64 {
        let i = match self.level {
            Level::Scalar => Some(0),
            Level::Instance => Some(inst),
            Level::Obs {
                instance_axis: None,
            } => Some(row),
            Level::Obs {
                instance_axis: Some(0),
            } => inst.checked_mul(self.rows).and_then(|b| b.checked_add(row)),
            Level::Obs { .. } => row
                .checked_mul(self.instances)
                .and_then(|b| b.checked_add(inst)),
            // Two-level layouts are addressed by `nested::at`.
            Level::Profile { .. } | Level::Cell | Level::Element => None,
        };
        i.and_then(|i| self.values.get(i))
            .copied()
            .unwrap_or(f64::NAN)
    }
}

/// Whole-variable integer values (counts, indexes), with fill values as `None`.
pub async fn read_integers(
    src: &dyn ArraySource,
    v: &Variable,
) -> Result<Vec<Option<i64>>, DsgError> {
    let arr = src
        .read_array(&v.path, &Hyperslab::full(&v.shape()))
        .await?;
    let p = Packing::of(v);
    let mut out = Vec::with_capacity(arr.len());
    for i in 0..arr.values.len() {
        let raw = arr.values.get_f64(i);
        let missing = p.fill_value == Some(raw) || p.missing_values.contains(&raw);
        if missing || !raw.is_finite() {
            out.push(None);
        } else if raw.fract() != 0.0 {
            return Err(DsgError::malformed(format!(
                "{}: value {raw} is not an integer",
                v.name
            )));
        } else {
            out.push(Some(raw as i64));
        }
    }
    Ok(out)
}

/// The feature ids, one per instance.
pub async fn read_ids(src: &dyn ArraySource, schema: &Schema) -> Result<Vec<String>, DsgError> {
    let n = schema.instances();
    let Some(v) = &schema.id else {
        return Ok((0..n).map(|i| i.to_string()).collect());
    };
    let arr = src
        .read_array(&v.path, &Hyperslab::full(&v.shape()))
        .await?;
    let ids: Vec<String> = match &arr.values {
        ArrayValues::Char(bytes) => {
            let width = arr.shape.last().copied().unwrap_or(0).max(1);
            bytes
                .chunks(width)
                .map(|c| {
                    String::from_utf8_lossy(c)
                        .trim_end_matches('\0')
                        .trim()
                        .to_string()
                })
                .collect()
        }
        ArrayValues::Str(s) => s.iter().map(|s| s.trim().to_string()).collect(),
        other => other
            .to_f64()
            .iter()
            .map(|x| {
                if x.fract() == 0.0 {
                    format!("{}", *x as i64)
                } else {
                    x.to_string()
                }
            })
            .collect(),
    };
    if ids.len() != n {
        return Err(DsgError::malformed(format!(
            "{} holds {} ids for {n} features",
            v.name,
            ids.len()
        )));
    }
    let mut seen = HashSet::new();
    for (i, id) in ids.iter().enumerate() {
        if id.is_empty() {
            return Err(DsgError::malformed(format!(
                "feature {i} has an empty id in {}",
                v.name
            )));
        }
        if !seen.insert(id.as_str()) {
            return Err(DsgError::malformed(format!(
                "the id {id:?} names two features in {}",
                v.name
            )));
        }
    }
    Ok(ids)
}

pub fn bounds(x: &[f64], y: &[f64]) -> (f64, f64, f64, f64) {
    let mm = |v: &[f64]| {
        v.iter()
            .filter(|a| a.is_finite())
            .fold((f64::NAN, f64::NAN), |(lo, hi), a| (lo.min(*a), hi.max(*a)))
    };
    let ((w, e), (s, n)) = (mm(x), mm(y));
    (w, s, e, n)
}

/// Longitudes in -180..180.
pub fn signed_lon(x: f64) -> f64 {
    if (-180.0..=180.0).contains(&x) || !x.is_finite() {
        x
    } else {
        (x + 180.0).rem_euclid(360.0) - 180.0
    }
}
