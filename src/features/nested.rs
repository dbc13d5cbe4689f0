//! Two-level DSG files (CF H.5 timeSeriesProfile, H.6 trajectoryProfile): each
//! feature (a station or a trajectory) holds profiles. The structure is recognised
//! from the metadata (multidimensional `data(instance, profile, element)`, or ragged
//! with `index(profile)` → instance and `count(profile)` → observations), and each
//! feature's observations are gathered profile by profile, in time order.

use super::coords::{Coord, bounds, read_ids, read_integers, signed_lon};
use super::schema::{
    Layout, Level, Schema, coordinate, dim_named, find_var, nested_level, value_dims,
};
use super::{ArraySource, DsgError, Feature, FeatureType, ProfileRef};
use crate::model::cf::{Axis, axis_of};
use crate::model::{AttributeList, DatasetMeta, DimRef, Variable};

/// Recognises a two-level file's structure.
pub fn detect(meta: &DatasetMeta, feature_type: FeatureType) -> Result<Schema, DsgError> {
    let role = feature_type.cf_role().unwrap_or("timeseries_id");
    let id = meta
        .root
        .variables
        .iter()
        .find(|v| {
            v.attr("cf_role")
                .and_then(|a| a.as_text())
                .is_some_and(|r| r.trim() == role)
        })
        .ok_or(DsgError::MissingCfRole(role))?;
    // A scalar id: one station or trajectory in the file (CF H.5.2, H.6.2).
    let inst: Option<DimRef> = match value_dims(id) {
        [] => None,
        [d] => Some(d.clone()),
        _ => {
            return Err(DsgError::malformed(format!(
                "the cf_role variable {:?} must be scalar or on the {} dimension",
                id.name,
                if feature_type == FeatureType::TimeSeriesProfile {
                    "station"
                } else {
                    "trajectory"
                },
            )));
        }
    };
    let count = find_var(meta, "sample_dimension");
    let index = find_var(meta, "instance_dimension");
    let (layout, profile, obs) = match (count, index) {
        (Some(count), Some(index)) => {
            let inst = inst.as_ref().ok_or_else(|| {
                DsgError::malformed(format!(
                    "the ragged layout needs the cf_role variable {:?} on the dimension its \
                     index variable {} names",
                    id.name, index.name
                ))
            })?;
            ragged(meta, inst, count, index)?
        }
        (None, None) => multidimensional(meta, inst.as_ref())?,
        (Some(v), None) | (None, Some(v)) => {
            return Err(DsgError::malformed(format!(
                "{} is ragged ({} has {}) but lacks the {} variable: a ragged {} file needs \
                 both an index variable (instance_dimension) and a count variable \
                 (sample_dimension) on the profile dimension",
                feature_type.name(),
                v.name,
                if count.is_some() {
                    "sample_dimension"
                } else {
                    "instance_dimension"
                },
                if count.is_some() { "index" } else { "count" },
                feature_type.name()
            )));
        }
    };
    let placed = |v: &Variable| nested_level(v, inst.as_ref(), &profile, &obs, &layout);
    let x = coordinate(meta, Axis::X, &placed, false)
        .ok_or(DsgError::MissingCoordinate("longitude"))?;
    let y =
        coordinate(meta, Axis::Y, &placed, false).ok_or(DsgError::MissingCoordinate("latitude"))?;
    let t = coordinate(meta, Axis::T, &placed, false).ok_or(DsgError::MissingCoordinate("time"))?;
    let z = coordinate(meta, Axis::Z, &placed, true)
        .filter(|v| placed(v).is_some_and(Level::per_obs))
        .ok_or(DsgError::MissingCoordinate(
            "vertical (z), one per observation",
        ))?;
    let mut not_data: Vec<&str> = vec![&x.path, &y.path, &t.path, &z.path, &id.path];
    if let Layout::NestedRagged { index, count } = &layout {
        not_data.push(&index.path);
        not_data.push(&count.path);
    }
    let data = meta
        .root
        .variables
        .iter()
        .filter(|v| v.dtype.is_numeric() && !not_data.contains(&v.path.as_str()))
        .filter(|v| matches!(placed(v), Some(Level::Obs { .. } | Level::Cell)))
        .cloned()
        .collect();
    Ok(Schema {
        feature_type,
        instance_dim: inst.clone(),
        obs_dim: obs,
        profile_dim: Some(profile),
        id: Some(id.clone()),
        x: x.clone(),
        y: y.clone(),
        t: Some(t.clone()),
        z: Some(z.clone()),
        data,
        layout,
    })
}

/// The ragged layout: both variables on the profile dimension, naming the instance
/// and observation dimensions.
fn ragged(
    meta: &DatasetMeta,
    inst: &DimRef,
    count: &Variable,
    index: &Variable,
) -> Result<(Layout, DimRef, DimRef), DsgError> {
    let obs_name = count
        .attributes
        .attr_text("sample_dimension")
        .unwrap_or_default();
    let obs = dim_named(meta, &obs_name).ok_or_else(|| {
        DsgError::malformed(format!(
            "{}: sample_dimension names no dimension {obs_name:?}",
            count.name
        ))
    })?;
    let inst_name = index
        .attributes
        .attr_text("instance_dimension")
        .unwrap_or_default();
    if inst_name.trim() != inst.name {
        return Err(DsgError::malformed(format!(
            "{}: instance_dimension is {inst_name:?}, the cf_role variable is on {:?}",
            index.name, inst.name
        )));
    }
    let (Some(p), [pi]) = (count.dims.first(), index.dims.as_slice()) else {
        return Err(DsgError::malformed(format!(
            "the count variable {} and index variable {} must be 1-D on the profile dimension",
            count.name, index.name
        )));
    };
    if count.dims.len() != 1 || p.path != pi.path {
        return Err(DsgError::malformed(format!(
            "the count variable {} and index variable {} must be 1-D on the same (profile) \
             dimension",
            count.name, index.name
        )));
    }
    let layout = Layout::NestedRagged {
        index: index.clone(),
        count: count.clone(),
    };
    Ok((layout, p.clone(), obs))
}

/// The multidimensional layout: the profile and element dimensions are those of a
/// variable on (instance, profile, element), or (profile, element) for a file of one
/// station or trajectory.
fn multidimensional(
    meta: &DatasetMeta,
    inst: Option<&DimRef>,
) -> Result<(Layout, DimRef, DimRef), DsgError> {
    let on_cells = |v: &&Variable| {
        v.dtype.is_numeric()
            && match inst {
                Some(i) => v.dims.len() == 3 && v.dims[0].path == i.path,
                None => v.dims.len() == 2,
            }
    };
    let v = meta
        .root
        .variables
        .iter()
        .filter(on_cells)
        .find(|v| axis_of(v) == Some(Axis::Z))
        .or_else(|| meta.root.variables.iter().find(on_cells))
        .ok_or_else(|| {
            DsgError::malformed(format!(
                "no variable on ({}profile, z): neither the multidimensional layout nor a \
                 ragged one (count and index variables)",
                inst.map_or(String::new(), |i| format!("{}, ", i.name))
            ))
        })?;
    let n = v.dims.len();
    Ok((
        Layout::NestedMultidimensional,
        v.dims[n - 2].clone(),
        v.dims[n - 1].clone(),
    ))
}

/// A coordinate's value at observation `row` of profile `p` of instance `s`: `row` is
/// the sample index (ragged) or `p × elements + element` (multidimensional).
fn at(c: &Coord, s: usize, p: usize, row: usize, profiles: usize, elements: usize) -> f64 {
    let i = match c.level {
        Level::Scalar => Some(0),
        Level::Instance => Some(s),
        Level::Profile {
            instance_axis: None,
        } => Some(p),
        Level::Profile {
            instance_axis: Some(0),
        } => s.checked_mul(profiles).and_then(|b| b.checked_add(p)),
        Level::Profile { .. } => p.checked_mul(c.instances).and_then(|b| b.checked_add(s)),
        Level::Obs { .. } => Some(row),
        Level::Cell => s
            .checked_mul(profiles)
            .and_then(|b| b.checked_mul(elements))
            .and_then(|b| b.checked_add(row)),
        Level::Element => row.checked_rem(elements),
    };
    i.and_then(|i| c.values.get(i)).copied().unwrap_or(f64::NAN)
}

/// One profile found in the file: its instance, index and rows.
struct Found {
    instance: usize,
    index: usize,
    rows: Vec<u32>,
}

/// The profiles of a ragged file, every count and index checked.
async fn ragged_profiles(
    src: &dyn ArraySource,
    schema: &Schema,
    index: &Variable,
    count: &Variable,
) -> Result<Vec<Found>, DsgError> {
    let n_inst = schema.instances();
    let n_prof = schema.profile_dim.as_ref().map_or(0, |d| d.len);
    let n_obs = schema.obs_dim.len;
    if u32::try_from(n_obs).is_err() {
        return Err(DsgError::malformed(format!(
            "{n_obs} observations: more than 2^32"
        )));
    }
    let idx = read_integers(src, index).await?;
    let counts = read_integers(src, count).await?;
    if idx.len() != n_prof || counts.len() != n_prof {
        return Err(DsgError::malformed(format!(
            "{} and {} must have one value per profile ({n_prof})",
            index.name, count.name
        )));
    }
    let mut out = Vec::with_capacity(n_prof);
    let mut start = 0usize;
    for p in 0..n_prof {
        let c = counts[p].unwrap_or(0);
        let c = usize::try_from(c).map_err(|_| {
            DsgError::malformed(format!(
                "{}: negative count {c} for profile {p}",
                count.name
            ))
        })?;
        let end = start
            .checked_add(c)
            .filter(|e| *e <= n_obs)
            .ok_or_else(|| {
                DsgError::malformed(format!(
                    "{}: the counts add up to more than the {n_obs} observations of dimension {}",
                    count.name, schema.obs_dim.name
                ))
            })?;
        if let Some(s) = idx[p] {
            let s = usize::try_from(s)
                .ok()
                .filter(|s| *s < n_inst)
                .ok_or_else(|| {
                    DsgError::malformed(format!(
                        "{}: profile {p} names instance {s}, there are {n_inst}",
                        index.name
                    ))
                })?;
            out.push(Found {
                instance: s,
                index: p,
                rows: (start as u32..end as u32).collect(),
            });
        }
        start = end;
    }
    if start != n_obs {
        return Err(DsgError::malformed(format!(
            "{}: the counts add up to {start}, dimension {} has {n_obs} observations",
            count.name, schema.obs_dim.name
        )));
    }
    Ok(out)
}

/// The features of a two-level file, from its coordinates (already read).
pub async fn features(
    src: &dyn ArraySource,
    schema: &Schema,
    x: &Coord,
    y: &Coord,
    t: &Coord,
    z: &Coord,
) -> Result<Vec<Feature>, DsgError> {
    let ids = read_ids(src, schema).await?;
    let n_inst = schema.instances();
    let n_prof = schema.profile_dim.as_ref().map_or(0, |d| d.len);
    let n_el = schema.obs_dim.len;
    let at = |c: &Coord, s: usize, p: usize, row: usize| at(c, s, p, row, n_prof, n_el);
    let found: Vec<Found> = match &schema.layout {
        Layout::NestedRagged { index, count } => ragged_profiles(src, schema, index, count).await?,
        _ => {
            let slots = n_prof.saturating_mul(n_el);
            if u32::try_from(slots).is_err() {
                return Err(DsgError::malformed(format!(
                    "{slots} observations per feature: more than 2^32"
                )));
            }
            let mut out = Vec::new();
            for s in 0..n_inst {
                for p in 0..n_prof {
                    // Incomplete layouts pad absent profiles and levels with fill values.
                    if !at(t, s, p, p * n_el).is_finite() {
                        continue;
                    }
                    let rows: Vec<u32> = (0..n_el)
                        .map(|e| p * n_el + e)
                        .filter(|&r| at(z, s, p, r).is_finite())
                        .map(|r| r as u32)
                        .collect();
                    out.push(Found {
                        instance: s,
                        index: p,
                        rows,
                    });
                }
            }
            out
        }
    };
    let mut by_instance: Vec<Vec<Found>> = (0..n_inst).map(|_| Vec::new()).collect();
    for f in found.into_iter().filter(|f| !f.rows.is_empty()) {
        let s = f.instance;
        by_instance[s].push(f);
    }
    let once = |c: &Coord| matches!(c.level, Level::Scalar | Level::Instance);
    let mut features = Vec::new();
    for (s, mut profs) in by_instance.into_iter().enumerate() {
        if profs.is_empty() {
            continue;
        }
        profs.sort_by(|a, b| {
            let ta = at(t, s, a.index, a.rows[0] as usize);
            let tb = at(t, s, b.index, b.rows[0] as usize);
            ta.total_cmp(&tb)
        });
        let mut rows = Vec::new();
        let mut profiles = Vec::with_capacity(profs.len());
        let (mut fx, mut fy, mut ft, mut fz) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for pr in &profs {
            profiles.push(ProfileRef {
                index: pr.index as u32,
                start: rows.len() as u32,
            });
            for &r in &pr.rows {
                let r = r as usize;
                if !once(x) {
                    fx.push(signed_lon(at(x, s, pr.index, r)));
                }
                if !once(y) {
                    fy.push(at(y, s, pr.index, r));
                }
                if !once(t) {
                    ft.push(at(t, s, pr.index, r));
                }
                fz.push(at(z, s, pr.index, r));
            }
            rows.extend_from_slice(&pr.rows);
        }
        let first = (profs[0].index, profs[0].rows[0] as usize);
        if once(x) {
            fx.push(signed_lon(at(x, s, first.0, first.1)));
        }
        if once(y) {
            fy.push(at(y, s, first.0, first.1));
        }
        if once(t) {
            ft.push(at(t, s, first.0, first.1));
        }
        let time_span = ft
            .iter()
            .filter(|v| v.is_finite())
            .fold(None, |acc: Option<(f64, f64)>, &v| {
                Some(acc.map_or((v, v), |(a, b)| (a.min(v), b.max(v))))
            });
        features.push(Feature {
            id: ids.get(s).cloned().unwrap_or_else(|| s.to_string()),
            instance: s,
            bbox: bounds(&fx, &fy),
            rows,
            x: fx,
            y: fy,
            t: ft,
            z: fz,
            time_span,
            profiles,
            member: 0,
        });
    }
    Ok(features)
}
