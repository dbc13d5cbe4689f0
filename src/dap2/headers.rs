//! The headers every DAP2 response carries.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// The DAP protocol version datagate speaks.
pub const DAP_VERSION: &str = "3.2";
/// What `XDODS-Server` names: the DAP2 core this server is compatible with.
pub const DODS_SERVER: &str = "dods/3.2";

pub fn server_version() -> String {
    format!("datagate/{}", env!("CARGO_PKG_VERSION"))
}

pub fn add_server_headers(h: &mut HeaderMap) {
    h.insert(
        HeaderName::from_static("xdods-server"),
        HeaderValue::from_static(DODS_SERVER),
    );
    if let Ok(v) = HeaderValue::from_str(&server_version()) {
        h.insert(HeaderName::from_static("xopendap-server"), v);
    }
    h.insert(
        HeaderName::from_static("xdap"),
        HeaderValue::from_static(DAP_VERSION),
    );
}

pub fn set_description(h: &mut HeaderMap, description: &'static str) {
    h.insert(
        HeaderName::from_static("content-description"),
        HeaderValue::from_static(description),
    );
}
