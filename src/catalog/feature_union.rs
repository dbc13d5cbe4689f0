//! Aggregations of observation (CF DSG) files by their features: one file per float,
//! glider or ship served as one collection. The files must share a featureType; the
//! aggregate has the first file's global attributes and no arrays of its own (each
//! member's arrays stay served as the member), and its features are the union of
//! the members' (built by the services from each member's feature index).

use super::aggregation::{AggregationReader, Candidate, Member};
use crate::features::FeatureType;
use crate::model::{AttributeList, DatasetMeta, Group};

fn feature_type(meta: &DatasetMeta) -> Option<FeatureType> {
    meta.attributes()
        .attr_text("featureType")
        .and_then(|t| FeatureType::parse(&t))
}

/// Checks the members (all DSG, one featureType) and makes the aggregate.
pub fn build(mut candidates: Vec<Candidate>) -> Result<(AggregationReader, Vec<String>), String> {
    let mut problems = Vec::new();
    candidates.sort_by(|a, b| a.id.cmp(&b.id));
    let mut kept: Vec<(Candidate, FeatureType)> = Vec::new();
    for c in candidates {
        match feature_type(&c.reader.metadata()) {
            Some(ft) => kept.push((c, ft)),
            None => problems.push(format!(
                "{}: no CF discrete sampling geometry featureType; excluded",
                c.id
            )),
        }
    }
    let Some((first, ft)) = kept.first().map(|(c, ft)| (c.id.clone(), *ft)) else {
        return Err(
            "features = true: no file with a CF discrete sampling geometry featureType".into(),
        );
    };
    if let Some((other, oft)) = kept.iter().find(|(_, f)| *f != ft) {
        return Err(format!(
            "features = true needs files of one featureType: {first} is {}, {} is {}",
            ft.name(),
            other.id,
            oft.name()
        ));
    }
    let reference = kept[0].0.reader.metadata();
    let meta = DatasetMeta {
        root: Group {
            name: String::new(),
            path: "/".into(),
            attributes: reference.root.attributes.clone(),
            ..Default::default()
        },
    };
    let members = kept
        .into_iter()
        .enumerate()
        .map(|(i, (c, _))| Member {
            id: c.id,
            location: c.location,
            version: c.version,
            reader: c.reader,
            offset: i,
            len: 0,
        })
        .collect();
    let reader = AggregationReader::of_members(meta, members).ok_or("no usable files")?;
    Ok((reader, problems))
}
