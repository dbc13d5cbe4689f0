//! The features of many DSG files of one featureType as one index (an aggregation of
//! one file per float, glider or ship): each member's index is built once per file
//! version by its owner and shared here; features keep their member, so their values
//! are read from it. Times are expressed in the first member's units.

use std::sync::Arc;

use super::{ArraySource, DsgError, FeatureIndex};

/// One file of a union: its feature index and where its values are read.
#[derive(Clone)]
pub struct UnionMember {
    pub index: Arc<FeatureIndex>,
    pub source: Arc<dyn ArraySource>,
}

impl std::fmt::Debug for UnionMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnionMember")
            .field("features", &self.index.features.len())
            .finish()
    }
}

/// The union of the members' features. A feature id met again in a later member is
/// made unique by a `~n` suffix (n = the member's position, from 1).
pub fn union(members: Vec<UnionMember>) -> Result<FeatureIndex, DsgError> {
    let first = members
        .first()
        .ok_or_else(|| DsgError::NotDsg("an aggregation of no file".into()))?;
    let ft = first.index.schema.feature_type;
    if let Some(other) = members.iter().find(|m| m.index.schema.feature_type != ft) {
        return Err(DsgError::malformed(format!(
            "an aggregation of {} files holds a {} file",
            ft.name(),
            other.index.schema.feature_type.name()
        )));
    }
    let schema = first.index.schema.clone();
    let time_units = first.index.time_units.clone();
    let mut features = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, m) in members.iter().enumerate() {
        let own = m.index.time_units.as_ref();
        let convert = match (own, time_units.as_ref()) {
            (Some(a), Some(b)) if a != b => Some((a, b)),
            _ => None,
        };
        for f in &m.index.features {
            let mut f = f.clone();
            f.member = i as u32;
            if let Some((from, to)) = convert {
                let conv = |v: f64| {
                    from.decode(v)
                        .and_then(|d| to.encode(&d).ok())
                        .unwrap_or(f64::NAN)
                };
                f.t = f.t.iter().map(|&v| conv(v)).collect();
                f.time_span = f.time_span.map(|(a, b)| (conv(a), conv(b)));
            }
            if !seen.insert(f.id.clone()) {
                f.id = format!("{}~{}", f.id, i + 1);
                seen.insert(f.id.clone());
            }
            features.push(f);
        }
    }
    let mut levels: Vec<f64> = members
        .iter()
        .flat_map(|m| m.index.levels.iter().copied())
        .collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    Ok(FeatureIndex {
        schema,
        time_units,
        features,
        levels,
        members,
    })
}
