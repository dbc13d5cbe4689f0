//! Writers of model data to files, for download responses. Protocol-free: they know the
//! model (and the catalog, to copy data block by block), not any wire format.

mod netcdf;

pub use netcdf::{NcChar, NetcdfWriter, WriteError, stream_file};
