//! OPeNDAP DAP4: `.dmr`/`.dmr.xml` (dataset metadata), `.dap` (the DMR and the data,
//! chunked), `.dmr.html` (a request form) and `.dsr`/`.dsr.xml` (services), with
//! `dap4.ce` constraints and `dap4.checksum`.

pub mod ce;
pub mod chunk;
pub mod data;
pub mod dmr;
mod dmr_user;
pub mod encode;
pub mod encode_user;
mod error;
mod html;
mod netcdf_c_floats;
pub mod selection;
mod xml;

use axum::body::Body;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};

pub use error::{Dap4Error, error_response};

use crate::app::{AppState, OpendapRequest};
use crate::http::{base_url, not_modified, validators};

pub const DMR_CONTENT_TYPE: &str =
    "application/vnd.opendap.dap4.dataset-metadata+xml; charset=UTF-8";
pub const DATA_CONTENT_TYPE: &str = "application/vnd.opendap.dap4.data";
pub const DSR_CONTENT_TYPE: &str =
    "application/vnd.opendap.dap4.dataset-services+xml; charset=UTF-8";

/// Answers `/opendap/{id}{suffix}` for DAP4 suffixes.
pub async fn respond(
    state: AppState,
    checksums: &data::Checksums,
    id: String,
    suffix: String,
    req: OpendapRequest,
) -> Response {
    match respond_inner(state, checksums, &id, &suffix, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn with_headers(
    mut r: Response,
    content_type: &'static str,
    ds: &crate::catalog::Dataset,
) -> Response {
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert("XDAP", HeaderValue::from_static("4.0"));
    for (k, v) in validators(ds) {
        h.insert(k, v);
    }
    r
}

async fn respond_inner(
    state: AppState,
    checksums: &data::Checksums,
    id: &str,
    suffix: &str,
    req: OpendapRequest,
) -> Result<Response, Dap4Error> {
    let ds = state.catalog.open(id).await?;
    answer(&state, checksums, &ds, id, suffix, &req)
        .await
        .map_err(|e| e.redacted(&ds))
}

/// The one validation point of a data request, before anything is read or any header
/// sent: the selection's shapes were checked against the dimensions by `resolve`; here
/// its total size, in checked arithmetic, against `limits.max_response_bytes`.
fn check_size(selection: &selection::Selection<'_>, limit: u64) -> Result<(), Dap4Error> {
    match selection.fixed_bytes() {
        Some(size) if size <= limit => Ok(()),
        size => {
            let size = size.map_or_else(|| "more than 2^64".into(), |n| n.to_string());
            Err(Dap4Error::TooLarge(format!(
                "Request too big: {size} bytes of data, more than this server's limit of \
                 {limit}; select fewer variables or a subset with dap4.ce"
            )))
        }
    }
}

async fn answer(
    state: &AppState,
    checksums: &data::Checksums,
    ds: &std::sync::Arc<crate::catalog::Dataset>,
    id: &str,
    suffix: &str,
    req: &OpendapRequest,
) -> Result<Response, Dap4Error> {
    let query = ce::parse_query(req.query.as_deref())?;
    let selection = selection::resolve(&ds.meta, query.ce.as_ref())?;
    if let Some(r) = not_modified(&req.headers, ds) {
        return Ok(r);
    }
    match suffix {
        ".dmr" | ".dmr.xml" => {
            let text = dmr::write_dmr(&dmr::DmrInput {
                meta: &ds.meta,
                selection: &selection,
                name: &ds.id,
                checksums: None,
            });
            Ok(with_headers(text.into_response(), DMR_CONTENT_TYPE, ds))
        }
        ".dap" => {
            check_size(&selection, state.config.limits.max_response_bytes)?;
            if req.method == Method::HEAD {
                return Ok(with_headers(().into_response(), DATA_CONTENT_TYPE, ds));
            }
            let block = state.config.limits.read_block_bytes.max(1);
            let (parts, sums) =
                data::prepare(ds, &selection, query.checksum, block, checksums).await?;
            let text = dmr::write_dmr(&dmr::DmrInput {
                meta: &ds.meta,
                selection: &selection,
                name: &ds.id,
                checksums: sums.as_ref(),
            });
            let head = chunk::dmr_chunk(&text, query.checksum).ok_or_else(|| {
                Dap4Error::TooLarge("the DMR is larger than one DAP4 chunk (16 MiB)".into())
            })?;
            let stream = data::body(ds.clone(), head, parts, block);
            Ok(with_headers(
                Body::from_stream(stream).into_response(),
                DATA_CONTENT_TYPE,
                ds,
            ))
        }
        ".dmr.html" => {
            let base = format!("{}/opendap/{}", base_url(state, &req.headers), ds.id);
            let page = html::form(ds, &base);
            let r = axum::response::Html(page).into_response();
            Ok(with_headers(r, "text/html; charset=UTF-8", ds))
        }
        ".dsr" | ".dsr.xml" => {
            let base = format!("{}/opendap/{}", base_url(state, &req.headers), ds.id);
            Ok(with_headers(
                html::dsr(&ds.id, &base).into_response(),
                DSR_CONTENT_TYPE,
                ds,
            ))
        }
        other => Err(Dap4Error::NotFound(format!(
            "{id}{other}: not a DAP4 response"
        ))),
    }
}
