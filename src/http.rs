//! HTTP details shared by the protocol front-ends: public base URL, conditional GET,
//! content negotiation.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::catalog::Dataset;

/// The URL clients reach this server at, without a trailing slash: the configured
/// `public_url`, else `X-Forwarded-Proto`/`X-Forwarded-Host`, else `Host`.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.server.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(',').next().unwrap_or("").trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let proto = get("x-forwarded-proto").unwrap_or_else(|| "http".into());
    let host = get("x-forwarded-host")
        .or_else(|| get("host"))
        .unwrap_or_else(|| state.config.server.bind.clone());
    format!("{proto}://{host}")
}

/// Validators for a dataset's current version.
pub fn validators(ds: &Dataset) -> Vec<(header::HeaderName, HeaderValue)> {
    let mut out = Vec::new();
    if let Ok(v) = HeaderValue::from_str(&ds.etag()) {
        out.push((header::ETAG, v));
    }
    if let Some(t) = ds.version.last_modified
        && let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(t))
    {
        out.push((header::LAST_MODIFIED, v));
    }
    out
}

/// `304 Not Modified` when the request's `If-None-Match` / `If-Modified-Since` match the
/// dataset's current version. `etag_suffix` distinguishes representations (`.dds`...).
pub fn not_modified(headers: &HeaderMap, ds: &Dataset) -> Option<Response> {
    let etag = ds.etag();
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        let matches = inm.trim() == "*"
            || inm
                .split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag);
        return matches.then(|| (StatusCode::NOT_MODIFIED, validators_map(ds)).into_response());
    }
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())?;
    let modified = ds.version.last_modified?;
    // HTTP dates have whole seconds.
    let modified_secs = modified
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let since_secs = since.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    (modified_secs <= since_secs)
        .then(|| (StatusCode::NOT_MODIFIED, validators_map(ds)).into_response())
}

fn validators_map(ds: &Dataset) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in validators(ds) {
        h.insert(k, v);
    }
    h
}

/// The client prefers JSON: `?f=json` or an `Accept` naming JSON before HTML.
pub fn wants_json(query: Option<&str>, headers: &HeaderMap) -> bool {
    if let Some(q) = query {
        for pair in q.split('&') {
            if let Some(v) = pair.strip_prefix("f=") {
                return v == "json";
            }
        }
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json = accept.find("json");
    let html = accept.find("html");
    matches!((json, html), (Some(j), None) if j < usize::MAX)
        || matches!((json, html), (Some(j), Some(h)) if j < h)
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An error as JSON (`code`, `description`, as OGC API clients read it): the form of
/// endpoints that have no protocol error form of their own.
pub fn json_error(status: StatusCode, description: impl Into<String>) -> Response {
    let description = description.into();
    (
        status,
        axum::Json(serde_json::json!({"code": status.as_u16(), "description": description})),
    )
        .into_response()
}

/// `message` with every spelling of the dataset's location replaced by its id: a last
/// guard for paths that lower layers (netCDF-C, HDF5) put in their own messages.
pub fn redact_location(message: &str, ds: &Dataset) -> String {
    use crate::storage::Location;
    let mut out = message.to_string();
    let mut spellings = vec![ds.location.to_string()];
    if let Location::Local(p) = &ds.location {
        spellings.push(p.display().to_string());
    }
    for s in spellings.iter().filter(|s| !s.is_empty()) {
        out = out.replace(s.as_str(), &ds.id);
    }
    // Other files of the same directory (a sidecar, a temporary copy).
    if let Location::Local(p) = &ds.location
        && let Some(dir) = p.parent().filter(|d| d.as_os_str().len() > 1)
    {
        out = out.replace(&dir.display().to_string(), "<data>");
    }
    out
}

/// A finished NetCDF file streamed as a download named after the dataset id
/// (`{last path segment without .nc}{suffix}.nc`); the file is removed once sent.
pub async fn netcdf_download(
    path: tempfile::TempPath,
    dataset_id: &str,
    suffix: &str,
) -> std::io::Result<Response> {
    let len = tokio::fs::metadata(&path).await?.len();
    let mut r = Response::new(axum::body::Body::from_stream(crate::writers::stream_file(
        path,
    )));
    netcdf_download_headers(r.headers_mut(), dataset_id, suffix);
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    Ok(r)
}

/// The headers of a NetCDF download but its length: what a HEAD request gets without
/// the file being written (its length is known only once it is).
pub fn netcdf_download_headers(h: &mut HeaderMap, dataset_id: &str, suffix: &str) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-netcdf"),
    );
    let stem: String = dataset_id
        .rsplit('/')
        .next()
        .unwrap_or("data")
        .trim_end_matches(".nc")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{stem}{suffix}.nc\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        let mut h = HeaderMap::new();
        assert!(!wants_json(None, &h));
        assert!(wants_json(Some("f=json"), &h));
        assert!(!wants_json(Some("a=1&f=html"), &h));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(wants_json(None, &h));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/json"),
        );
        assert!(!wants_json(None, &h));
        assert_eq!(
            html_escape("<a href=\"x\">"),
            "&lt;a href=&quot;x&quot;&gt;"
        );
    }
}
