//! Replayed answers: the whole response to a public `GET` of a versioned document
//! (DAS, DDS, DMR, `.zmetadata`, a small chunk...), kept for the shortest version
//! revalidation interval and replayed before routing. A metadata request otherwise
//! walks routing, the guards, the access check, the catalog and the handler, most of
//! its CPU even with every document cached (BENCHMARKS.md, stop 30).
//!
//! A replayed answer is one the full stack gave moments ago, so what it may be is
//! decided there; here only whether it may be reused:
//! - the request carries no credentials, cookies, conditions or ranges (those go
//!   through the stack: a 304, a 206 or a principal's answer is computed each time);
//! - the answer is a 200 with an `ETag` (a dataset version's document), public (no
//!   `Cache-Control: private` or `no-store`, which the access check sets for restricted
//!   datasets and signed-in requests), sets no cookie, and is small;
//! - the key holds every request header an answer may depend on (`Host`, the
//!   forwarded headers when the peer is a trusted proxy, `Accept`, `Accept-Encoding`,
//!   `Origin`), the catalog's generation and the storage's count of objects found
//!   changed, so a rescan, or a read that finds a file replaced, starts afresh.
//!
//! Entries live as long as a file's version is trusted without a new look
//! (`storage.local_revalidate_ms`, `storage.revalidate_secs`): a changed file is seen
//! no later than without the replay. Hits are logged and counted like other requests.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use bytes::{Bytes, BytesMut};
use http_body::Body as _;
use http_body::Frame;
use http_body_util::{BodyExt as _, BodyStream, StreamBody};
use ipnet::IpNet;
use tower::ServiceExt as _;

use super::request_record::{self, Recorded};
use crate::catalog::Catalog;
use crate::metrics::Metrics;

/// Headers that make a request someone's own, conditional or partial: never replayed.
const PERSONAL: &[header::HeaderName] = &[
    header::AUTHORIZATION,
    header::COOKIE,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_MATCH,
    header::IF_UNMODIFIED_SINCE,
    header::IF_RANGE,
    header::RANGE,
];

/// Request headers an answer may depend on, always.
const VARYING: &[header::HeaderName] = &[
    header::HOST,
    header::ACCEPT,
    header::ACCEPT_ENCODING,
    header::ORIGIN,
];

/// Request headers an answer depends on when a trusted proxy sent them (the guards
/// remove them from anyone else).
const FORWARDED: &[&str] = &[
    "forwarded",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-prefix",
];

/// Largest answer kept.
const MAX_ENTRY_BYTES: usize = 1 << 20;

#[derive(Hash, PartialEq, Eq)]
struct ReplayKey {
    /// The catalog's generation and the storage's count of objects found changed:
    /// a rescan, or a read that finds a file replaced, makes every replay stale.
    generation: (u64, u64),
    target: Box<str>,
    headers: Box<[Option<HeaderValue>]>,
}

struct Stored {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    recorded: Recorded,
}

pub struct Replay {
    cache: Option<moka::sync::Cache<ReplayKey, Arc<Stored>>>,
    catalog: Arc<Catalog>,
    metrics: Arc<Metrics>,
    trusted: Arc<Vec<IpNet>>,
    max_url_bytes: usize,
}

impl Replay {
    /// `bytes`: what entries may fill (0: no replay); `ttl`: how long one lives
    /// (zero: no replay, as when every request must look at the file).
    pub fn new(
        bytes: u64,
        ttl: Duration,
        catalog: Arc<Catalog>,
        metrics: Arc<Metrics>,
        trusted: Arc<Vec<IpNet>>,
        max_url_bytes: usize,
    ) -> Replay {
        let cache = (bytes > 0 && !ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(bytes)
                .weigher(|k: &ReplayKey, v: &Arc<Stored>| {
                    let headers: usize = v
                        .headers
                        .iter()
                        .map(|(n, v)| n.as_str().len() + v.len() + 32)
                        .sum();
                    (v.body.len() + headers + k.target.len() + 256)
                        .try_into()
                        .unwrap_or(u32::MAX)
                })
                .time_to_live(ttl)
                .build()
        });
        Replay {
            cache,
            catalog,
            metrics,
            trusted,
            max_url_bytes,
        }
    }

    /// Answers `req`: a replay when one is kept, else `app`'s answer (kept when it
    /// may be replayed).
    pub async fn serve(
        &self,
        req: Request<Body>,
        peer: SocketAddr,
        app: Router,
    ) -> Result<Response<Body>, Infallible> {
        let Some(key) = self.key(&req, peer) else {
            return app.oneshot(req).await;
        };
        let cache = self.cache.as_ref().expect("a key only when replaying");
        if let Some(hit) = cache.get(&key) {
            let start = Instant::now();
            // The span an exporter sees for every request (`request_record`).
            let span = if cfg!(feature = "otel") {
                tracing::info_span!("request", method = %req.method(), uri = %req.uri(), replayed = true)
            } else {
                tracing::Span::none()
            };
            let _entered = span.enter();
            let mut response = Response::new(Body::from(hit.body.clone()));
            *response.status_mut() = hit.status;
            *response.headers_mut() = hit.headers.clone();
            request_record::log_and_count(
                &self.metrics,
                req.method(),
                req.uri(),
                &hit.recorded,
                hit.status,
                start.elapsed().as_secs_f64(),
            );
            self.metrics.cache_event("response", "hit");
            return Ok(response);
        }
        let response = app.oneshot(req).await?;
        Ok(self.keep(key, response).await)
    }

    /// The request's key, or `None` when it is not to be replayed.
    fn key(&self, req: &Request<Body>, peer: SocketAddr) -> Option<ReplayKey> {
        self.cache.as_ref()?;
        if req.method() != Method::GET {
            return None;
        }
        let h = req.headers();
        if PERSONAL.iter().any(|name| h.contains_key(name)) || no_cache(h) {
            return None;
        }
        let target = req.uri().path_and_query()?.as_str();
        if target.len() > self.max_url_bytes {
            return None;
        }
        let trusted = self.trusted.iter().any(|net| net.contains(&peer.ip()));
        let mut headers = Vec::with_capacity(VARYING.len() + FORWARDED.len());
        headers.extend(VARYING.iter().map(|name| h.get(name).cloned()));
        if trusted {
            headers.extend(FORWARDED.iter().map(|name| h.get(*name).cloned()));
        }
        Some(ReplayKey {
            generation: (self.catalog.generation(), self.catalog.storage().changes()),
            target: target.into(),
            headers: headers.into_boxed_slice(),
        })
    }

    /// Keeps `response` under `key` when it may be replayed; returns it either way.
    async fn keep(&self, key: ReplayKey, response: Response<Body>) -> Response<Body> {
        let Some(recorded) = response.extensions().get::<Recorded>().cloned() else {
            return response;
        };
        if !replayable(&response) {
            return response;
        }
        let (parts, body) = response.into_parts();
        match collect_up_to(body, MAX_ENTRY_BYTES).await {
            Err(rest) => Response::from_parts(parts, rest),
            Ok(bytes) => {
                let stored = Stored {
                    status: parts.status,
                    headers: parts.headers.clone(),
                    body: bytes.clone(),
                    recorded,
                };
                // A miss is a replayable answer not found (`/healthz` and the
                // like are not counted).
                self.metrics.cache_event("response", "miss");
                if let Some(cache) = &self.cache {
                    cache.insert(key, Arc::new(stored));
                }
                Response::from_parts(parts, Body::from(bytes))
            }
        }
    }
}

/// A client that asks for a fresh answer gets one.
fn no_cache(h: &HeaderMap) -> bool {
    [header::CACHE_CONTROL, header::PRAGMA].iter().any(|name| {
        h.get_all(name).iter().any(|v| {
            v.to_str()
                .map_or(true, |s| s.to_ascii_lowercase().contains("no-cache"))
        })
    })
}

/// A public 200 of a versioned document that sets no cookie.
fn replayable(response: &Response<Body>) -> bool {
    let h = response.headers();
    let private = h.get_all(header::CACHE_CONTROL).iter().any(|v| {
        v.to_str().map_or(true, |s| {
            let s = s.to_ascii_lowercase();
            s.contains("private") || s.contains("no-store") || s.contains("no-cache")
        })
    });
    response.status() == StatusCode::OK
        && h.contains_key(header::ETAG)
        && !h.contains_key(header::SET_COOKIE)
        && !private
        && response
            .body()
            .size_hint()
            .upper()
            .is_none_or(|n| n <= MAX_ENTRY_BYTES as u64)
}

/// The whole body when it is at most `max` bytes of data and nothing else; else a
/// body that yields everything it would have (what was read, then the rest).
async fn collect_up_to(mut body: Body, max: usize) -> Result<Bytes, Body> {
    let mut read: Vec<Frame<Bytes>> = Vec::new();
    let mut len = 0usize;
    loop {
        match body.frame().await {
            None => break,
            Some(Ok(frame)) => {
                let data = frame.is_data();
                len = len.saturating_add(frame.data_ref().map_or(0, Bytes::len));
                read.push(frame);
                // Too large, or trailers: passed on as they came, not kept.
                if !data || len > max {
                    return Err(chain(
                        read,
                        futures::StreamExt::boxed(BodyStream::new(body)),
                    ));
                }
            }
            Some(Err(e)) => {
                return Err(chain(
                    read,
                    futures::StreamExt::boxed(futures::stream::iter([Err(e)])),
                ));
            }
        }
    }
    let mut all = BytesMut::with_capacity(len);
    for frame in read {
        if let Ok(data) = frame.into_data() {
            if all.is_empty() && len == data.len() {
                return Ok(data);
            }
            all.extend_from_slice(&data);
        }
    }
    Ok(all.freeze())
}

/// A body of the frames `read`, then those of `rest`.
fn chain(
    read: Vec<Frame<Bytes>>,
    rest: futures::stream::BoxStream<'static, Result<Frame<Bytes>, axum::Error>>,
) -> Body {
    use futures::StreamExt as _;
    let head = futures::stream::iter(read.into_iter().map(Ok::<_, axum::Error>));
    Body::new(StreamBody::new(head.chain(rest)))
}

#[cfg(test)]
#[path = "replay_tests.rs"]
mod tests;
