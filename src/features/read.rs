//! Reading a feature's observed values: one hyperslab covering the feature's rows (a
//! contiguous run for ragged layouts, one row for multidimensional ones).

use super::schema::Level;
use super::{ArraySource, DsgError, Feature, FeatureIndex};
use crate::model::Variable;
use crate::model::cf::Packing;
use crate::subset::{DimSlice, Hyperslab};

/// The physical values (NaN where missing) of `var` at the observations `picks`
/// (indices into `feature.rows`) of `feature`.
pub async fn read_observations(
    src: &dyn ArraySource,
    index: &FeatureIndex,
    feature: &Feature,
    var: &Variable,
    picks: &[usize],
) -> Result<Vec<f64>, DsgError> {
    let rows: Vec<usize> = picks
        .iter()
        .map(|&p| feature.rows.get(p).map(|&r| r as usize))
        .collect::<Option<_>>()
        .ok_or_else(|| DsgError::malformed("observation index out of range"))?;
    let (Some(&lo), Some(&hi)) = (rows.iter().min(), rows.iter().max()) else {
        return Ok(Vec::new());
    };
    let level = index.schema.level(var).ok_or_else(|| {
        DsgError::malformed(format!("{} is not on the features' dimensions", var.name))
    })?;
    let run = DimSlice {
        start: lo,
        stride: 1,
        count: hi - lo + 1,
    };
    let (slab, offset): (Vec<DimSlice>, usize) = match level {
        Level::Scalar => (vec![], 0),
        Level::Instance => (vec![DimSlice::index(feature.instance)], 0),
        Level::Obs {
            instance_axis: None,
        } => (vec![run], lo),
        Level::Obs {
            instance_axis: Some(0),
        } => (vec![DimSlice::index(feature.instance), run], lo),
        Level::Obs { .. } => (vec![run, DimSlice::index(feature.instance)], lo),
    };
    let slab = Hyperslab::new(slab);
    slab.validate(&var.shape())
        .map_err(crate::readers::ReadError::from)?;
    let arr = src.read_array(&var.path, &slab).await?;
    let values = Packing::of(var).decode_values(&arr.values);
    Ok(match level {
        Level::Scalar | Level::Instance => {
            let v = values.first().copied().unwrap_or(f64::NAN);
            vec![v; rows.len()]
        }
        Level::Obs { .. } => rows
            .iter()
            .map(|r| values.get(r - offset).copied().unwrap_or(f64::NAN))
            .collect(),
    })
}
