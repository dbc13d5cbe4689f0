//! datagate: archive datasets behind OPeNDAP, OGC API EDR, OGC WMS and virtual Zarr.

pub mod fixtures;
pub mod model;
pub mod readers;
pub mod storage;
pub mod subset;
