//! The data model: the netCDF-4 enhanced model, with CF helpers. Knows no file format
//! and no protocol.

mod attribute;
pub mod cf;
mod group;
mod types;

pub use attribute::{AttrValue, Attribute, AttributeList, format_float};
pub use group::{DatasetMeta, DimRef, Dimension, Group, Variable};
pub use types::{Array, ArrayValues, DataType};

#[cfg(test)]
pub(crate) use group::tests::sample as sample_meta;
