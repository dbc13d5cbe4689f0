//! Replays through the whole assembled server: what is kept, what never is, and that
//! a changed file is seen once its version is looked at again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;

use super::*;
use crate::server::{AppState, assemble};

const PEER: &str = "192.0.2.7:40000";

struct Server {
    app: Router,
    replay: Arc<Replay>,
    state: AppState,
    _dir: tempfile::TempDir,
}

/// The server over one public and one restricted copy of the gridded fixture, files
/// trusted for `revalidate_ms` between looks.
fn server(revalidate_ms: u64) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::server::access_tests::public_and_restricted(dir.path());
    config.storage.local_revalidate_ms = revalidate_ms;
    let state = AppState::new(config);
    let (app, _, replay) = assemble(state.clone());
    Server {
        app,
        replay,
        state,
        _dir: dir,
    }
}

impl Server {
    async fn get(&self, req: axum::http::request::Builder) -> (StatusCode, String) {
        let req = req.body(Body::empty()).unwrap();
        let peer: SocketAddr = PEER.parse().unwrap();
        let res = self
            .replay
            .serve(req, peer, self.app.clone())
            .await
            .unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn hits(&self) -> u64 {
        let c = &self.state.metrics.cache;
        c.with_label_values(&["response", "hit"]).get()
    }

    fn misses(&self) -> u64 {
        let c = &self.state.metrics.cache;
        c.with_label_values(&["response", "miss"]).get()
    }
}

fn get(uri: &str) -> axum::http::request::Builder {
    Request::get(uri).header(header::HOST, "gw.test")
}

#[tokio::test]
async fn a_repeated_public_document_is_replayed_and_counted() {
    let s = server(60_000);
    let first = s.get(get("/opendap/g.nc.das")).await;
    assert_eq!(first.0, StatusCode::OK);
    assert_eq!(s.hits(), 0);
    let second = s.get(get("/opendap/g.nc.das")).await;
    assert_eq!(second, first);
    assert_eq!(s.hits(), 1);
    // Misses count replayable answers only, not what is never replayed.
    assert_eq!(s.get(get("/healthz")).await.0, StatusCode::OK);
    assert_eq!(s.misses(), 1);
    // Counted like any request: the route and the dataset.
    let m = &s.state.metrics;
    let route = m.requests.with_label_values(&["/opendap/{*path}", "200"]);
    assert_eq!(route.get(), 2, "both requests counted");
    let dataset = m
        .dataset_requests
        .with_label_values(&["opendap", "g.nc", "2xx"]);
    assert_eq!(dataset.get(), 2, "both counted for the dataset");
    // Another representation, another host, another Accept: each its own entry.
    s.get(get("/opendap/g.nc.dds")).await;
    s.get(Request::get("/opendap/g.nc.das").header(header::HOST, "other.test"))
        .await;
    s.get(get("/opendap/g.nc.das").header(header::ACCEPT, "text/plain"))
        .await;
    assert_eq!(s.hits(), 1);
}

#[tokio::test]
async fn personal_conditional_and_private_answers_are_never_replayed() {
    use base64::Engine;
    let s = server(60_000);
    let alice = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:pw")
    );
    for _ in 0..2 {
        // Signed in: her own answer each time.
        let (code, _) = s
            .get(get("/opendap/restricted/g.nc.das").header(header::AUTHORIZATION, &alice))
            .await;
        assert_eq!(code, StatusCode::OK);
        // Anonymous, restricted: refused each time, never served alice's copy.
        let (code, _) = s.get(get("/opendap/restricted/g.nc.das")).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED);
        // Conditional and partial requests are answered by the handlers.
        s.get(get("/opendap/g.nc.dds").header(header::IF_NONE_MATCH, "\"x\""))
            .await;
        s.get(get("/opendap/g.nc.dds").header(header::CACHE_CONTROL, "no-cache"))
            .await;
        // Errors are not kept.
        let (code, _) = s.get(get("/opendap/nothing.nc.das")).await;
        assert_eq!(code, StatusCode::NOT_FOUND);
    }
    assert_eq!(s.hits(), 0);
}

#[tokio::test]
async fn forwarded_headers_count_only_from_trusted_proxies() {
    let s = server(60_000);
    let peer: SocketAddr = PEER.parse().unwrap();
    let key = |forwarded: &str| {
        let req = get("/opendap/g.nc.das")
            .header("x-forwarded-host", forwarded)
            .body(Body::empty())
            .unwrap();
        s.replay.key(&req, peer).unwrap()
    };
    // The guards remove them from this untrusted peer: one answer for all.
    assert!(key("a.example") == key("b.example"));
    let trusting = Replay::new(
        1 << 20,
        Duration::from_secs(1),
        s.state.catalog.clone(),
        s.state.metrics.clone(),
        Arc::new(vec!["192.0.2.0/24".parse().unwrap()]),
        1 << 14,
    );
    let req = |forwarded: &str| {
        get("/opendap/g.nc.das")
            .header("x-forwarded-host", forwarded)
            .body(Body::empty())
            .unwrap()
    };
    assert!(trusting.key(&req("a.example"), peer) != trusting.key(&req("b.example"), peer));
}

#[tokio::test]
async fn a_changed_file_is_seen_once_its_version_is_looked_at_again() {
    let s = server(100);
    let (_, before) = s.get(get("/opendap/g.nc.das")).await;
    s.get(get("/opendap/g.nc.das")).await;
    assert_eq!(s.hits(), 1);
    // Rewritten with another title: the replay lives no longer than the version.
    let path = s._dir.path().join("g.nc");
    let mut file = netcdf::append(&path).unwrap();
    file.add_attribute("title", "changed").unwrap();
    drop(file);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, after) = s.get(get("/opendap/g.nc.das")).await;
    assert!(after.contains("changed"), "{after}");
    assert_ne!(before, after);
}

#[tokio::test]
async fn bodies_too_large_or_with_trailers_pass_through_whole() {
    let pieces: Vec<Result<Bytes, std::io::Error>> =
        (0..8u8).map(|i| Ok(Bytes::from(vec![i; 100]))).collect();
    let body = Body::from_stream(futures::stream::iter(pieces));
    let Err(rest) = collect_up_to(body, 250).await else {
        panic!("800 bytes kept under a 250-byte limit");
    };
    let all = rest.collect().await.unwrap().to_bytes();
    assert_eq!(all.len(), 800);
    assert!(
        all.chunks(100)
            .enumerate()
            .all(|(i, c)| c.iter().all(|&b| b as usize == i))
    );

    let with_trailers =
        http_body_util::Full::new(Bytes::from_static(b"abc")).with_trailers(async {
            let mut t = HeaderMap::new();
            t.insert("x-checksum", HeaderValue::from_static("1"));
            Some(Ok(t))
        });
    let Err(rest) = collect_up_to(Body::new(with_trailers), 1000).await else {
        panic!("a body with trailers kept");
    };
    let collected = rest.collect().await.unwrap();
    assert_eq!(collected.trailers().unwrap()["x-checksum"], "1");
    assert_eq!(collected.to_bytes(), "abc");

    let small = Body::from("small");
    assert_eq!(collect_up_to(small, 1000).await.unwrap(), "small");
}
