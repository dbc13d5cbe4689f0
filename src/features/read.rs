//! Reading a feature's observed values: one hyperslab covering the feature's rows (a
//! contiguous run for ragged layouts, one row for multidimensional ones).

use super::schema::Level;
use super::{ArraySource, DsgError, Feature, FeatureIndex};
use crate::model::Variable;
use crate::model::cf::Packing;
use crate::subset::{DimSlice, Hyperslab};

/// The physical values (NaN where missing) of `var` at the observations `picks`
/// (indices into `feature.rows`) of `feature`. A union's features are read from their
/// member, where a variable the member lacks is missing.
pub async fn read_observations(
    src: &dyn ArraySource,
    index: &FeatureIndex,
    feature: &Feature,
    var: &Variable,
    picks: &[usize],
) -> Result<Vec<f64>, DsgError> {
    match index.members.get(feature.member as usize) {
        None => read_from(src, index, feature, var, picks).await,
        Some(m) => match m.index.schema.variable(&var.path) {
            Some(own) => read_from(&*m.source, &m.index, feature, own, picks).await,
            None => Ok(vec![f64::NAN; picks.len()]),
        },
    }
}

async fn read_from(
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
    let span = |a: usize, b: usize| DimSlice {
        start: a,
        stride: 1,
        count: b - a + 1,
    };
    let inst = DimSlice::index(feature.instance);
    let elements = index.schema.obs_dim.len.max(1);
    // Two-level layouts: the profile of each pick, for values given per profile.
    let profiles: Vec<usize> = match level {
        Level::Profile { .. } => picks
            .iter()
            .map(|&k| feature.profile_of(k).map(|p| p.index as usize))
            .collect::<Option<_>>()
            .ok_or_else(|| DsgError::malformed("observation outside its feature's profiles"))?,
        _ => Vec::new(),
    };
    let (p_lo, p_hi) = (
        profiles.iter().copied().min().unwrap_or(0),
        profiles.iter().copied().max().unwrap_or(0),
    );
    let (slab, offset): (Vec<DimSlice>, usize) = match level {
        Level::Scalar => (vec![], 0),
        Level::Instance => (vec![inst], 0),
        Level::Obs {
            instance_axis: None,
        } => (vec![run], lo),
        Level::Obs {
            instance_axis: Some(0),
        } => (vec![inst, run], lo),
        Level::Obs { .. } => (vec![run, inst], lo),
        Level::Profile {
            instance_axis: None,
        } => (vec![span(p_lo, p_hi)], p_lo),
        Level::Profile {
            instance_axis: Some(0),
        } => (vec![inst, span(p_lo, p_hi)], p_lo),
        Level::Profile { .. } => (vec![span(p_lo, p_hi), inst], p_lo),
        // Rows are `profile × elements + element`: whole profiles are read.
        Level::Cell => {
            let (a, b) = (lo / elements, hi / elements);
            let mut slab = vec![inst, span(a, b), span(0, elements - 1)];
            if var.dims.len() == 2 {
                slab.remove(0); // one station or trajectory: (profile, element)
            }
            (slab, a * elements)
        }
        Level::Element => (vec![span(0, elements - 1)], 0),
    };
    let slab = Hyperslab::new(slab);
    slab.validate(&var.shape())
        .map_err(crate::readers::ReadError::from)?;
    let arr = src.read_array(&var.path, &slab).await?;
    let values = Packing::of(var).decode_values(&arr.values);
    let get = |i: usize| {
        i.checked_sub(offset)
            .and_then(|i| values.get(i))
            .copied()
            .unwrap_or(f64::NAN)
    };
    Ok(match level {
        Level::Scalar | Level::Instance => {
            let v = values.first().copied().unwrap_or(f64::NAN);
            vec![v; rows.len()]
        }
        Level::Obs { .. } | Level::Cell => rows.iter().map(|&r| get(r)).collect(),
        Level::Element => rows.iter().map(|&r| get(r % elements)).collect(),
        Level::Profile { .. } => profiles.iter().map(|&p| get(p)).collect(),
    })
}
