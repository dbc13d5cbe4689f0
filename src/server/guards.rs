//! Server-level guards every request passes, before and after its service: trust in
//! forwarded headers, URL size, admission control, panics, and errors raised by the
//! server's own layers (time-outs, wrong methods) rendered in the form of the service
//! the URL belongs to.

use std::net::{IpAddr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use futures::FutureExt;
use http_body::{Frame, SizeHint};
use ipnet::IpNet;
use tokio::sync::OwnedSemaphorePermit;

use super::admission::Admission;
use crate::service::{RequestInfo, Services};

/// What the guards need, built once.
#[derive(Clone)]
pub struct Guards {
    pub services: Services,
    pub admission: Arc<Admission>,
    pub trusted: Arc<Vec<IpNet>>,
    pub max_url_bytes: usize,
}

/// Parses `server.trusted_proxies` (addresses or CIDR blocks).
pub fn trusted_proxies(list: &[String]) -> Result<Vec<IpNet>, String> {
    list.iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|e| format!("server.trusted_proxies: {s:?}: {e}"))
        })
        .collect()
}

const FORWARDED: &[&str] = &[
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-prefix",
];

fn error(guards: &Guards, req: RequestInfo<'_>, status: StatusCode, message: &str) -> Response {
    guards.services.error_response(req, status, message)
}

pub async fn guard(State(guards): State<Guards>, mut req: Request, next: Next) -> Response {
    // Forwarded headers say what URL the client used: believed only from proxies.
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if !peer.is_some_and(|ip| guards.trusted.iter().any(|net| net.contains(&ip))) {
        for name in FORWARDED {
            req.headers_mut().remove(*name);
        }
    }
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let info = RequestInfo {
        path: &path,
        query: query.as_deref(),
    };
    let url_len = path.len() + query.as_ref().map_or(0, |q| q.len() + 1);
    if url_len > guards.max_url_bytes {
        return error(
            &guards,
            info,
            StatusCode::URI_TOO_LONG,
            &format!(
                "the URL is {url_len} bytes long, more than this server's limit of {}",
                guards.max_url_bytes
            ),
        );
    }
    let class = guards
        .services
        .owner(&path)
        .and_then(|s| s.work_class(info));
    let permit = match class {
        Some(class) => match guards.admission.admit(class).await {
            Some(p) => Some(p),
            None => {
                let mut r = error(
                    &guards,
                    info,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the server is busy with other requests of this kind; retry shortly",
                );
                r.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(guards.admission.retry_after_secs()),
                );
                return r;
            }
        },
        None => None,
    };
    // A panic in one request is that request's 500, never the process's end.
    let response = match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!("panic answering {path}: {what}");
            return error(
                &guards,
                info,
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error while answering this request",
            );
        }
    };
    let response = render_bare_error(&guards, info, response);
    match permit {
        // The permit lives as long as the body streams.
        Some(permit) => response.map(|body| {
            Body::new(PermitBody {
                body,
                _permit: permit,
            })
        }),
        None => response,
    }
}

/// Errors the server's layers answer with an empty body (405 from routing, 408 from
/// the time-out, 413 from the body limit) get the owning service's error form.
fn render_bare_error(guards: &Guards, req: RequestInfo<'_>, response: Response) -> Response {
    use http_body::Body as _;
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Layers answer with no content type, or plain text (the body limit's "length
    // limit exceeded"); no service answers these statuses in plain text itself.
    let from_a_layer = content_type.is_empty()
        || (content_type.starts_with("text/plain")
            && matches!(
                status,
                StatusCode::METHOD_NOT_ALLOWED
                    | StatusCode::REQUEST_TIMEOUT
                    | StatusCode::PAYLOAD_TOO_LARGE
            ));
    let bare = (status.is_client_error() || status.is_server_error())
        && from_a_layer
        && response.body().size_hint().upper().is_some_and(|n| n <= 64);
    if !bare {
        return response;
    }
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => "this method is not allowed here",
        StatusCode::REQUEST_TIMEOUT => "the request took too long and was stopped",
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large",
        StatusCode::RANGE_NOT_SATISFIABLE => "the requested range is not satisfiable",
        _ => status.canonical_reason().unwrap_or("error"),
    };
    let mut rendered = error(guards, req, status, message);
    for name in [header::ALLOW, header::CONTENT_RANGE] {
        if let Some(v) = response.headers().get(&name) {
            rendered.headers_mut().insert(name, v.clone());
        }
    }
    rendered
}

/// A body that holds an admission permit until it is finished or dropped.
struct PermitBody {
    body: Body,
    _permit: OwnedSemaphorePermit,
}

impl http_body::Body for PermitBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_not_the_end() {
        use tower::ServiceExt;
        let guards = Guards {
            services: Services::default(),
            admission: Arc::new(Admission::new(&crate::config::LimitsConfig::default())),
            trusted: Arc::new(Vec::new()),
            max_url_bytes: 1000,
        };
        let app = axum::Router::new()
            .route(
                "/boom",
                axum::routing::get(|| async {
                    let v: Vec<String> = Vec::new();
                    v.first().cloned().expect("a bug")
                }),
            )
            .layer(axum::middleware::from_fn_with_state(guards, guard));
        let req = axum::http::Request::get("/boom")
            .body(Body::empty())
            .unwrap();
        let res = app.oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn trusted_proxy_list() {
        let nets = trusted_proxies(&["10.0.0.0/8".into(), "127.0.0.1".into()]).unwrap();
        assert!(nets[0].contains(&"10.1.2.3".parse::<IpAddr>().unwrap()));
        assert!(nets[1].contains(&"127.0.0.1".parse::<IpAddr>().unwrap()));
        assert!(!nets[1].contains(&"127.0.0.2".parse::<IpAddr>().unwrap()));
        assert!(trusted_proxies(&["nonsense".into()]).is_err());
    }
}
