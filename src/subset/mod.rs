//! Selections on the model: index hyperslabs, coordinate → index selection, bounding
//! boxes and horizontal grids (nearest cell). Knows no protocol syntax.

mod bbox;
mod coords;
mod grid;
mod hyperslab;
mod reduced_grid;

pub use bbox::{BBox, BBoxError};
pub use coords::{CoordAxis, LonConvention, lon_index_ranges};
pub use grid::{CurvilinearGrid, HorizontalGrid, RectilinearGrid};
pub use hyperslab::{DimSlice, Hyperslab, SubsetError};
