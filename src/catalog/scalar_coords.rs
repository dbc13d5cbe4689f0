//! Scalar coordinates of the files of a `join_new` aggregation: the value each file
//! gives the new dimension, and the scalars that differ between files.

use crate::model::cf::{TimeUnits, time_units};
use crate::model::{DataType, DatasetMeta};
use crate::readers::Reader;
use crate::subset::Hyperslab;

/// The value of a file's scalar coordinate `path` in `units` (converted from its
/// own time units when it has some).
pub(super) async fn value(
    reader: &dyn Reader,
    path: &str,
    units: &TimeUnits,
) -> Result<f64, String> {
    let meta = reader.metadata();
    let var = meta
        .variable(path)
        .filter(|v| v.dims.is_empty())
        .ok_or_else(|| format!("no scalar coordinate {path} (and no date_format)"))?;
    let a = reader
        .read(path, &Hyperslab::full(&[]))
        .await
        .map_err(|e| e.to_string())?;
    let v = *a.values.to_f64().first().ok_or("an empty scalar")?;
    match time_units(var) {
        Some(own) => own
            .decode(v)
            .and_then(|t| units.encode(&t).ok())
            .ok_or_else(|| format!("{path} = {v} is not a date")),
        None if v.is_finite() => Ok(v),
        None => Err(format!("{path} has no value")),
    }
}

/// Scalar numeric variables (other than `dim`) whose value is not the same in every
/// member.
pub(super) async fn varying(readers: &[&dyn Reader], meta: &DatasetMeta, dim: &str) -> Vec<String> {
    let mut out = Vec::new();
    for v in meta.variables() {
        if !v.dims.is_empty()
            || v.path == dim
            || v.dtype.size().is_none()
            || v.dtype == DataType::Char
        {
            continue;
        }
        let mut seen: Option<Vec<f64>> = None;
        for reader in readers {
            let Ok(a) = reader.read(&v.path, &Hyperslab::full(&[])).await else {
                break;
            };
            let value = a.values.to_f64();
            match &seen {
                None => seen = Some(value),
                Some(first)
                    if first
                        .iter()
                        .zip(&value)
                        .all(|(a, b)| a.to_bits() == b.to_bits()) => {}
                Some(_) => {
                    out.push(v.path.clone());
                    break;
                }
            }
        }
    }
    out
}
