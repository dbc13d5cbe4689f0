//! `.nc`: the constrained variables as a NetCDF-4 file.

use std::sync::Arc;

use axum::response::Response;

use super::error::Dap2Error;
use super::selection::Projected;
use crate::catalog::Dataset;

pub async fn netcdf(
    _ds: &Arc<Dataset>,
    _projected: &[Projected],
    _block_bytes: usize,
) -> Result<Response, Dap2Error> {
    Err(Dap2Error::NotFound("not yet".into()))
}
