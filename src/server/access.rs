//! The access check every request passes, in one place for every protocol: who sent
//! it (`auth::Access::authenticate`), which datasets it reads (`Service::datasets` of
//! the service owning the path), and whether they are admitted. Refusals are rendered
//! by the owning service (DAP `Error {…}`, WMS exception report...):
//! - bad credentials → 401 (429 after many failures from one address);
//! - no credentials for a restricted dataset → 401 with `WWW-Authenticate` (netCDF-C
//!   then retries with its `.netrc` pair);
//! - signed in but not admitted → 404, as for a dataset that does not exist.
//!
//! Answers about restricted datasets, and every answer to a signed-in request (its
//! listings are that principal's), carry `Cache-Control: private`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::app::AppState;
use crate::auth::{AuthError, Decision};
use crate::service::{RequestInfo, Services};

#[derive(Clone)]
pub struct AccessCheck {
    pub state: AppState,
    pub services: Services,
}

pub async fn check(State(check): State<AccessCheck>, mut req: Request, next: Next) -> Response {
    let access = check.state.access.clone();
    if !access.enabled() {
        return next.run(req).await;
    }
    let raw_path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let info = RequestInfo {
        path: &raw_path,
        query: query.as_deref(),
    };
    let principal = match access.authenticate(req.headers(), client(&req)).await {
        Ok(p) => p,
        Err(e) => return refuse(&check, info, e.status(), &e.message(), &e),
    };
    // Handlers see the path percent-decoded: so must the check.
    let path = percent_encoding::percent_decode_str(&raw_path)
        .decode_utf8_lossy()
        .into_owned();
    let decoded = RequestInfo {
        path: &path,
        query: query.as_deref(),
    };
    let ids = check
        .services
        .owner(&path)
        .map(|s| s.datasets(&check.state, decoded))
        .unwrap_or_default();
    let mut private = !principal.is_anonymous();
    for id in &ids {
        match access.decide(&principal, id, &check.state.catalog) {
            Decision::Public => {}
            Decision::Admitted => private = true,
            Decision::Denied if principal.is_anonymous() => {
                return refuse(
                    &check,
                    info,
                    StatusCode::UNAUTHORIZED,
                    "this dataset needs you to sign in",
                    &AuthError::Invalid("no credentials"),
                );
            }
            Decision::Denied => {
                return check.services.error_response(
                    info,
                    StatusCode::NOT_FOUND,
                    &format!("no dataset at {:?}", path_tail(&path)),
                );
            }
        }
    }
    req.extensions_mut().insert(principal);
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if private {
        let kept = private_cache_control(headers.get(header::CACHE_CONTROL));
        headers.insert(header::CACHE_CONTROL, kept);
    }
    // What a URL answers depends on who asks.
    headers.append(header::VARY, HeaderValue::from_static("Authorization"));
    response
}

/// `private`, keeping the answer's freshness (`max-age`, `no-cache`...) but nothing
/// that lets a shared cache store it.
fn private_cache_control(current: Option<&HeaderValue>) -> HeaderValue {
    let kept: Vec<&str> = current
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|d| {
            let name = d.split('=').next().unwrap_or("").to_ascii_lowercase();
            !d.is_empty() && !matches!(name.as_str(), "public" | "private" | "s-maxage")
        })
        .collect();
    let value = std::iter::once("private")
        .chain(kept)
        .collect::<Vec<_>>()
        .join(", ");
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("private"))
}

/// The path below the service prefix, as services name it in their 404s.
fn path_tail(path: &str) -> &str {
    path.trim_start_matches('/')
        .split_once('/')
        .map_or("", |(_, rest)| rest)
}

fn refuse(
    check: &AccessCheck,
    info: RequestInfo<'_>,
    status: StatusCode,
    message: &str,
    error: &AuthError,
) -> Response {
    let mut r = check.services.error_response(info, status, message);
    let h = r.headers_mut();
    match error {
        AuthError::Invalid(_) | AuthError::InvalidToken(_) => {
            for c in check.state.access.challenges_for(error) {
                h.append(header::WWW_AUTHENTICATE, c);
            }
        }
        AuthError::TooManyFailures => {
            let secs = check.state.access.failure_window().as_secs();
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        AuthError::Unavailable => {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        }
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The client's address: the last `X-Forwarded-For` hop when a trusted proxy sent it
/// (the guards remove the header from anyone else), else the peer.
fn client(req: &Request) -> Option<IpAddr> {
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok());
    forwarded.or_else(|| {
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    })
}

/// `GET /auth/login?next=/path`: the browsers' sign-in. Without credentials it answers
/// 401 with the Basic challenge (the browser asks for a user and password and then
/// sends them with every request to this server); signed in, it sends the browser on
/// to `next` (a path on this server, never another site).
pub async fn login(
    State(state): State<AppState>,
    crate::auth::Viewer(viewer): crate::auth::Viewer,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    use axum::response::IntoResponse;
    if !state.access.enabled() {
        return crate::http::json_error(StatusCode::NOT_FOUND, "no sign-in is configured");
    }
    if viewer.is_anonymous() {
        let mut r = crate::http::json_error(StatusCode::UNAUTHORIZED, "sign in to continue");
        for c in state.access.challenges() {
            r.headers_mut().append(header::WWW_AUTHENTICATE, c);
        }
        return r;
    }
    let next = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
        .filter(|n| {
            n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
        })
        .unwrap_or_else(|| "/".into());
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, next),
            (header::CACHE_CONTROL, "private".to_string()),
        ],
    )
        .into_response()
}

/// `GET /auth/whoami`: the principal a request is seen as (for pages and scripts).
pub async fn whoami(crate::auth::Viewer(viewer): crate::auth::Viewer) -> Response {
    use axum::response::IntoResponse;
    let body = match viewer {
        crate::auth::Principal::Anonymous => serde_json::json!({"authenticated": false}),
        crate::auth::Principal::User { name, groups } => {
            serde_json::json!({"authenticated": true, "user": name, "groups": groups})
        }
    };
    (
        [(header::CACHE_CONTROL, "private, no-store")],
        axum::Json(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_keeps_freshness_only() {
        let v = |s: &'static str| private_cache_control(Some(&HeaderValue::from_static(s)));
        assert_eq!(v("public, max-age=300"), "private, max-age=300");
        assert_eq!(v("s-maxage=60, no-cache"), "private, no-cache");
        assert_eq!(private_cache_control(None), "private");
    }
}
