//! The real server on a loopback port: listing, health, metrics, 404s, path traversal.

mod common;

use std::path::Path;

use datagate::config::Config;

struct Running {
    base: String,
    _dir: tempfile::TempDir,
}

async fn start(config: impl FnOnce(&Path) -> Config) -> Running {
    let dir = tempfile::tempdir().unwrap();
    datagate::fixtures::write_all(&dir.path().join("data")).unwrap();
    // A secret outside the served root, which no URL may reach.
    std::fs::write(dir.path().join("secret.nc"), b"CDF\x01TOP-SECRET-CONTENT").unwrap();
    let base = common::serve(config(dir.path())).await;
    Running { base, _dir: dir }
}

/// The server's `/metrics` text.
async fn metrics(s: &Running) -> String {
    let r = reqwest::get(format!("{}/metrics", s.base)).await.unwrap();
    r.text().await.unwrap()
}

async fn serve_data_dir() -> Running {
    start(|d| Config::for_roots(&[d.join("data")])).await
}

#[tokio::test]
async fn lists_every_dataset_with_variables() {
    let s = serve_data_dir().await;
    let body: serde_json::Value = reqwest::get(format!("{}/datasets", s.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = body["datasets"].as_array().unwrap();
    assert_eq!(list.len(), datagate::fixtures::FIXTURES.len());
    let types = list.iter().find(|d| d["id"] == "types_nc4.nc").unwrap();
    let paths: Vec<&str> = types["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"/forecast/deep/salinity"));
    assert!(paths.contains(&"/v_string"));
    let sst = list.iter().find(|d| d["id"] == "sst_classic.nc").unwrap();
    assert_eq!(sst["format"], "netcdf3-classic");
    let var = sst["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "sst")
        .unwrap();
    assert_eq!(var["shape"], serde_json::json!([3, 10, 18]));
    assert_eq!(var["dtype"], "f32");
    assert_eq!(var["units"], "K");
    assert!(sst["links"].as_array().unwrap().iter().any(|l| {
        l["href"]
            .as_str()
            .unwrap()
            .ends_with("/opendap/sst_classic.nc.html")
    }));
}

#[tokio::test]
async fn landing_negotiates_json_and_html() {
    let s = serve_data_dir().await;
    let c = reqwest::Client::new();
    let r = c.get(format!("{}/?f=json", s.base)).send().await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("json")
    );
    let r = c
        .get(format!("{}/", s.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("<table>"));
}

#[tokio::test]
async fn health_and_metrics() {
    let s = serve_data_dir().await;
    assert_eq!(
        reqwest::get(format!("{}/healthz", s.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    reqwest::get(format!("{}/datasets", s.base)).await.unwrap();
    reqwest::get(format!("{}/datasets", s.base)).await.unwrap();
    let m = metrics(&s).await;
    assert!(
        m.contains("datagate_requests_total{route=\"/datasets\",status=\"200\"} 2"),
        "{m}"
    );
    assert!(m.contains("datagate_cache_events_total{cache=\"metadata\",event=\"hit\"}"));
    assert!(m.contains("datagate_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn unknown_ids_and_traversal_are_404() {
    let s = serve_data_dir().await;
    for path in [
        "/opendap/nope.nc.dds",
        "/opendap/../secret.nc.dds",
        "/opendap/%2e%2e/secret.nc.dds",
        "/opendap/..%2Fsecret.nc.dds",
        "/opendap/%2Fetc%2Fpasswd.dds",
        "/opendap//etc/passwd.dds",
        "/opendap/data/sst_classic.nc.dds",
        "/no/such/route",
    ] {
        let r = reqwest::get(format!("{}{}", s.base, path)).await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert!(!r.text().await.unwrap().contains("TOP-SECRET"), "{path}");
    }
}

#[tokio::test]
async fn unreadable_files_are_skipped_not_fatal() {
    let s = start(|d| {
        std::fs::write(d.join("data/broken.nc"), b"CDF\x01 but truncated garbage").unwrap();
        Config::for_roots(&[d.join("data")])
    })
    .await;
    let body: serde_json::Value = reqwest::get(format!("{}/datasets", s.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = body["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"broken.nc"));
    assert!(ids.contains(&"sst_classic.nc"));
}

#[tokio::test]
async fn repeated_documents_are_replayed_over_the_wire() {
    let s = serve_data_dir().await;
    let client = reqwest::Client::new();
    let url = format!("{}/opendap/sst_classic.nc.das", s.base);
    let get = |encoding: Option<&'static str>| {
        let mut req = client.get(&url);
        if let Some(e) = encoding {
            req = req.header("accept-encoding", e);
        }
        async move {
            let r = req.send().await.unwrap();
            let headers = r.headers().clone();
            (r.status(), headers, r.bytes().await.unwrap())
        }
    };
    let (status, first_headers, first) = get(None).await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let (status, headers, body) = get(None).await;
        assert_eq!((status.as_u16(), &body), (200, &first));
        assert_eq!(headers["etag"], first_headers["etag"]);
        assert_eq!(headers["content-type"], first_headers["content-type"]);
    }
    // A gzip client gets its own (compressed) answer, replayed whole.
    let (_, gz_headers, gz) = get(Some("gzip")).await;
    assert_eq!(gz_headers["content-encoding"], "gzip");
    let (_, again_headers, again) = get(Some("gzip")).await;
    assert_eq!(
        (&again_headers["content-encoding"], &again),
        (&gz_headers["content-encoding"], &gz)
    );
    // Conditional requests still get their 304 from the handler.
    let etag = first_headers["etag"].clone();
    let r = client
        .get(&url)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let m = metrics(&s).await;
    for series in [
        r#"datagate_cache_events_total{cache="response",event="hit"} 3"#,
        // Replays are counted like any request (the 304 too: six in all).
        r#"datagate_dataset_requests_total{dataset="sst_classic.nc",service="opendap",status="2xx"} 5"#,
        r#"datagate_dataset_requests_total{dataset="sst_classic.nc",service="opendap",status="3xx"} 1"#,
    ] {
        assert!(m.contains(series), "{series} missing in\n{m}");
    }
}

#[tokio::test]
async fn ready_when_the_catalog_is_served_and_metrics_name_service_and_dataset() {
    let s = serve_data_dir().await;
    let ready = reqwest::get(format!("{}/readyz", s.base)).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["ready"], true);
    assert!(body["datasets"].as_u64().unwrap() > 5, "{body}");
    for path in [
        "/opendap/sst_classic.nc.dds",
        "/zarr/sst_classic.nc/.zmetadata",
        "/edr/collections/sst_classic.nc",
        "/opendap/no_such_file.nc.dds",
        "/wp-admin/x",
    ] {
        reqwest::get(format!("{}{path}", s.base)).await.unwrap();
    }
    let m = metrics(&s).await;
    for series in [
        r#"datagate_dataset_requests_total{dataset="sst_classic.nc",service="opendap",status="2xx"} 1"#,
        r#"datagate_dataset_requests_total{dataset="sst_classic.nc",service="zarr",status="2xx"} 1"#,
        r#"datagate_dataset_requests_total{dataset="sst_classic.nc",service="edr",status="2xx"} 1"#,
        // Unknown ids and paths make no label of their own.
        r#"datagate_dataset_requests_total{dataset="none",service="opendap",status="4xx"} 1"#,
        r#"datagate_dataset_requests_total{dataset="none",service="other",status="4xx"} 1"#,
    ] {
        assert!(m.contains(series), "{series} missing in\n{m}");
    }
    assert!(!m.contains("no_such_file") && !m.contains("wp-admin"));
    // A path of 60,000 dots and slashes is refused (414) without the per-dataset
    // metrics looking it up first.
    let long = format!("/opendap/{}", "a./".repeat(20_000));
    let started = std::time::Instant::now();
    let r = reqwest::get(format!("{}{long}", s.base)).await.unwrap();
    assert_eq!(r.status(), 414);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(m.contains("datagate_service_request_duration_seconds_bucket{service=\"zarr\""));
}

#[tokio::test]
async fn not_ready_but_alive_while_the_object_store_is_unreachable() {
    // Nothing listens on the endpoint: every listing is refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let s = start(|d| {
        let mut c = Config::for_roots(&[d.join("data")]);
        c.roots.push(datagate::config::RootConfig {
            path: "s3://archive/netcdf/".into(),
            prefix: "remote/".into(),
        });
        c.storage.s3.endpoint = Some(endpoint);
        c.storage.s3.allow_http = true;
        c.storage.s3.access_key_id = Some("k".into());
        c.storage.s3.secret_access_key = Some("s".into());
        c.storage.s3.region = Some("us-east-1".into());
        c.storage.max_retries = 0;
        c
    })
    .await;
    let ready = reqwest::get(format!("{}/readyz", s.base)).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["reason"], "object store unreachable");
    assert_eq!(body["stores"], serde_json::json!(["s3://archive"]));
    let alive = reqwest::get(format!("{}/healthz", s.base)).await.unwrap();
    assert_eq!(alive.status(), 200);
}
