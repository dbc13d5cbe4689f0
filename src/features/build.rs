//! Building the feature index of a DSG file: the ids, the coordinate variables and the
//! ragged counts or indexes are read whole, once; every count, offset and index is
//! checked against the dimensions before it is used.

use super::coords::{Coord, bounds, read_ids, read_integers, signed_lon};
use super::detect::detect;
use super::schema::{Layout, Level, Schema};
use super::{ArraySource, DsgError, Feature, FeatureIndex, FeatureType};
use crate::model::DatasetMeta;
use crate::model::cf;

/// The rows (element or sample indices) of each instance.
async fn rows_of(
    src: &dyn ArraySource,
    schema: &Schema,
    along: &Coord,
) -> Result<Vec<Vec<u32>>, DsgError> {
    let n_inst = schema.instances();
    let n_obs = schema.obs_dim.len;
    if u32::try_from(n_obs).is_err() {
        return Err(DsgError::malformed(format!(
            "{n_obs} observations: more than 2^32"
        )));
    }
    let all = |n: usize| (0..n as u32).collect::<Vec<u32>>();
    Ok(match &schema.layout {
        Layout::Multidimensional => (0..n_inst)
            .map(|i| {
                // Incomplete layouts pad with fill values: those elements are not
                // observations.
                (0..n_obs as u32)
                    .filter(|&e| along.at(i, e as usize).is_finite())
                    .collect()
            })
            .collect(),
        Layout::ContiguousRagged { count } => {
            let counts = read_integers(src, count).await?;
            if counts.len() != n_inst {
                return Err(DsgError::malformed(format!(
                    "{} has {} counts for {n_inst} features",
                    count.name,
                    counts.len()
                )));
            }
            let mut start = 0usize;
            let mut out = Vec::with_capacity(n_inst);
            for (i, c) in counts.iter().enumerate() {
                let c = c.unwrap_or(0);
                let c = usize::try_from(c).map_err(|_| {
                    DsgError::malformed(format!(
                        "{}: negative count {c} for feature {i}",
                        count.name
                    ))
                })?;
                let end = start
                    .checked_add(c)
                    .filter(|e| *e <= n_obs)
                    .ok_or_else(|| {
                        DsgError::malformed(format!(
                            "{}: the counts add up to more than the {n_obs} observations of \
                         dimension {}",
                            count.name, schema.obs_dim.name
                        ))
                    })?;
                out.push((start as u32..end as u32).collect());
                start = end;
            }
            if start != n_obs {
                return Err(DsgError::malformed(format!(
                    "{}: the counts add up to {start}, dimension {} has {n_obs} observations",
                    count.name, schema.obs_dim.name
                )));
            }
            out
        }
        Layout::IndexedRagged { index } => {
            let idx = read_integers(src, index).await?;
            if idx.len() != n_obs {
                return Err(DsgError::malformed(format!(
                    "{} has {} values for {n_obs} observations",
                    index.name,
                    idx.len()
                )));
            }
            let mut out = vec![Vec::new(); n_inst];
            for (s, k) in idx.iter().enumerate() {
                let Some(k) = k else { continue };
                let slot = usize::try_from(*k)
                    .ok()
                    .and_then(|k| out.get_mut(k))
                    .ok_or_else(|| {
                        DsgError::malformed(format!(
                            "{}: observation {s} names feature {k}, there are {n_inst}",
                            index.name
                        ))
                    })?;
                slot.push(s as u32);
            }
            out
        }
        Layout::Flat if schema.feature_type == FeatureType::Point => {
            (0..n_obs as u32).map(|s| vec![s]).collect()
        }
        Layout::Flat => vec![all(n_obs)],
        Layout::NestedMultidimensional | Layout::NestedRagged { .. } => {
            return Err(DsgError::malformed("two-level layout read as one level"));
        }
    })
}

/// The most observation slots an index is built over (a multidimensional layout has
/// instances × elements of them, padding included): the index holds about 30 bytes
/// per observation, and one far larger than the caches would be rebuilt per request.
pub const MAX_OBSERVATIONS: usize = 10_000_000;
/// The most features an index holds (a point file has one per observation).
pub const MAX_FEATURES: usize = 1_000_000;

/// Refuses, before anything is read, a file whose index would be too large.
fn check_size(schema: &Schema) -> Result<(), DsgError> {
    let n_obs = schema.obs_dim.len;
    let profiles = schema.profile_dim.as_ref().map_or(1, |d| d.len);
    let slots = match schema.layout {
        Layout::Multidimensional => schema.instances().saturating_mul(n_obs),
        Layout::NestedMultidimensional => schema
            .instances()
            .saturating_mul(profiles)
            .saturating_mul(n_obs),
        _ => n_obs,
    };
    let features = match schema.feature_type {
        FeatureType::Point => n_obs,
        _ => schema.instances(),
    };
    if slots > MAX_OBSERVATIONS || features > MAX_FEATURES {
        return Err(DsgError::TooLarge(format!(
            "{features} features and {slots} observations; features are indexed for files \
             of at most {MAX_FEATURES} features and {MAX_OBSERVATIONS} observations"
        )));
    }
    Ok(())
}

/// Reads a DSG dataset's structure and coordinates into its feature index.
pub async fn build_index(
    src: &dyn ArraySource,
    meta: &DatasetMeta,
) -> Result<FeatureIndex, DsgError> {
    let schema = detect(meta)?;
    check_size(&schema)?;
    let features = features(src, &schema).await?;
    let time_units = schema.t.as_ref().and_then(cf::time_units);
    let mut levels: Vec<f64> = features
        .iter()
        .flat_map(|f| f.z.iter().copied())
        .filter(|z| z.is_finite())
        .collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    Ok(FeatureIndex {
        schema,
        time_units,
        features,
        levels,
        members: Vec::new(),
    })
}

/// The features of a file, one level or two.
async fn features(src: &dyn ArraySource, schema: &Schema) -> Result<Vec<Feature>, DsgError> {
    if schema.feature_type.is_nested() {
        let (Some(tv), Some(zv)) = (&schema.t, &schema.z) else {
            return Err(DsgError::MissingCoordinate("time"));
        };
        let x = Coord::read(src, schema, &schema.x).await?;
        let y = Coord::read(src, schema, &schema.y).await?;
        let t = Coord::read(src, schema, tv).await?;
        let z = Coord::read(src, schema, zv).await?;
        return super::nested::features(src, schema, &x, &y, &t, &z).await;
    }
    let ids = read_ids(src, schema).await?;
    let x = Coord::read(src, schema, &schema.x).await?;
    let y = Coord::read(src, schema, &schema.y).await?;
    let t = match &schema.t {
        Some(v) => Some(Coord::read(src, schema, v).await?),
        None => None,
    };
    let z = match &schema.z {
        Some(v) => Some(Coord::read(src, schema, v).await?),
        None => None,
    };
    let along = if schema.feature_type == FeatureType::Profile {
        z.as_ref()
    } else {
        t.as_ref()
    }
    .ok_or(DsgError::MissingCoordinate("time"))?;
    let rows = rows_of(src, schema, along).await?;
    let mut features = Vec::new();
    for (inst, rows) in rows.into_iter().enumerate() {
        if rows.is_empty() {
            continue;
        }
        let id = if schema.feature_type == FeatureType::Point && schema.id.is_none() {
            rows[0].to_string()
        } else {
            ids.get(inst).cloned().unwrap_or_else(|| inst.to_string())
        };
        // Coordinates given per feature are kept once (see `Feature`).
        let get = |c: Option<&Coord>| -> Vec<f64> {
            match c {
                None => Vec::new(),
                Some(c) if matches!(c.level, Level::Instance | Level::Scalar) => {
                    vec![c.at(inst, rows[0] as usize)]
                }
                Some(c) => rows.iter().map(|&r| c.at(inst, r as usize)).collect(),
            }
        };
        let fx: Vec<f64> = get(Some(&x)).into_iter().map(signed_lon).collect();
        let fy = get(Some(&y));
        let ft = get(t.as_ref());
        let fz = get(z.as_ref());
        let time_span = ft
            .iter()
            .filter(|v| v.is_finite())
            .fold(None, |acc: Option<(f64, f64)>, &v| {
                Some(acc.map_or((v, v), |(a, b)| (a.min(v), b.max(v))))
            });
        features.push(Feature {
            id,
            instance: inst,
            bbox: bounds(&fx, &fy),
            rows,
            x: fx,
            y: fy,
            t: ft,
            z: fz,
            time_span,
            profiles: Vec::new(),
            member: 0,
        });
    }
    Ok(features)
}

/// `build_index` on the blocking pool: walking every observation of a large file is
/// CPU work that must not hold an async worker. The reads inside still go through the
/// dataset's async reader (driven from the blocking thread).
pub async fn build_index_off_the_workers<S>(
    src: std::sync::Arc<S>,
) -> Result<FeatureIndex, DsgError>
where
    S: ArraySource + AsRef<DatasetMeta> + 'static,
{
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let meta: &DatasetMeta = (*src).as_ref();
        runtime.block_on(build_index(&*src, meta))
    })
    .await
    .map_err(|e| {
        DsgError::Read(crate::readers::ReadError::Internal(format!(
            "feature index task failed: {e}"
        )))
    })?
}
