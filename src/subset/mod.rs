//! Selections on the model: index hyperslabs and coordinate → index selection.
//! Knows no protocol syntax.

mod coords;
mod hyperslab;

pub use coords::{CoordAxis, LonConvention, lon_index_ranges};
pub use hyperslab::{DimSlice, Hyperslab, SubsetError};
