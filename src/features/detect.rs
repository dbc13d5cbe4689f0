//! Recognising a DSG file's structure: one level (`schema.rs`) or two (`nested.rs`).

use super::schema::{Schema, detect_one_level};
use super::{DsgError, FeatureType};
use crate::model::{AttributeList, DatasetMeta};

/// The DSG structure of a file, from its metadata alone.
pub fn detect(meta: &DatasetMeta) -> Result<Schema, DsgError> {
    let nested = meta
        .attributes()
        .attr_text("featureType")
        .and_then(|t| FeatureType::parse(&t))
        .filter(|ft| ft.is_nested());
    match nested {
        Some(ft) => super::nested::detect(meta, ft),
        None => detect_one_level(meta),
    }
}
