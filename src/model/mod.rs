//! The data model: the netCDF-4 enhanced model, with CF helpers. Knows no file format
//! and no protocol.

pub mod acdd;
mod attribute;
pub mod cf;
mod group;
mod layout;
#[allow(clippy::unnecessary_cast)] // the numeric macro casts f64 to f64 too
mod types;
mod user_types;

pub use attribute::{AttrValue, Attribute, AttributeList, format_float};
pub use group::{
    AnyVariable, DatasetMeta, DimRef, Dimension, Group, UserTypes, UserVariable, Variable,
};
pub use layout::{ChunkEntry, ChunkIndex, Filter};
pub use types::{Array, ArrayValues, DataType};
pub use user_types::{
    CompoundType, EnumType, Field, OpaqueType, UserArray, Value, ValueType, VlenType,
};
