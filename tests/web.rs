//! The web interface on the real server: the catalog and dataset pages render for
//! browsers (HTML, no server paths), JSON stays the answer for other clients, the
//! notebook still answers below `/datasets/`, static files are cached for long, and
//! bad input is a 4xx page.

mod common;

async fn get(url: String, accept: &str) -> (u16, String, String, String) {
    let r = reqwest::Client::new()
        .get(url)
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let header = |n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (ct, cache) = (header("content-type"), header("cache-control"));
    (status, ct, cache, r.text().await.unwrap())
}

const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

#[tokio::test]
async fn pages_render_for_browsers() {
    let s = common::start(|_| {}).await;
    let data = s.data.to_string_lossy().to_string();
    for (path, want, must) in [
        ("/", 200, "sst_classic.nc"),
        ("/?q=curvilinear", 200, "1 result"),
        (
            "/?q=sea_surface_temperature&format=netcdf3-classic",
            200,
            "sst_classic.nc",
        ),
        ("/?bbox=0,50,1", 400, "bbox=0,50,1"),
        ("/?page=0", 400, "page=0"),
        ("/datasets/sst_classic.nc", 200, "sea_surface_temperature"),
        ("/datasets/gridded_nc4.nc", 200, "id=\"variables\""),
        ("/datasets/nope.nc", 404, "no dataset nope.nc"),
    ] {
        let (status, ct, _, body) = get(s.url(path), HTML).await;
        assert_eq!(status, want, "{path}");
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        assert!(body.starts_with("<!DOCTYPE html>"), "{path}");
        assert!(body.contains(must), "{path}: no {must:?}");
        assert!(!body.contains(&data), "{path}: a server path");
    }
    // Search narrows: the curvilinear file alone, by a word of its title.
    let (_, _, _, body) = get(s.url("/?q=curvilinear"), HTML).await;
    assert_eq!(body.matches("class=\"hit\"").count(), 1);
    let (_, _, _, all) = get(s.url("/"), HTML).await;
    assert!(all.matches("class=\"hit\"").count() > 1);
}

#[tokio::test]
async fn protocol_html_pages_share_the_layout() {
    let s = common::start(|_| {}).await;
    let stylesheet = format!("{}/datagate.css", datagate::site_page::STATIC_PREFIX);
    let link = format!("href=\"{stylesheet}\"");
    for path in [
        "/opendap/sst_classic.nc.html",
        "/opendap/sst_classic.nc.info",
        "/opendap/sst_classic.nc.dmr.html",
        "/edr/collections/sst_classic.nc?f=html",
        "/edr/collections/sst_classic.nc/position?coords=POINT(0%200)&f=html",
    ] {
        let (status, ct, _, body) = get(s.url(path), HTML).await;
        assert_eq!(status, 200, "{path}");
        assert!(ct.starts_with("text/html"), "{path}");
        assert!(body.contains(&link), "{path}");
        // The site's header and navigation, and one whole document.
        assert!(body.contains("<header class=\"site\">"), "{path}");
        assert_eq!(body.matches("</html>").count(), 1, "{path}");
    }
    let (status, _, _, css) = get(s.url(&stylesheet), "*/*").await;
    assert_eq!(status, 200);
    assert!(css.contains(":root"));
}

#[tokio::test]
async fn other_clients_get_json_and_notebooks() {
    let s = common::start(|_| {}).await;
    let doc = s.json("/datasets/sst_classic.nc").await;
    assert_eq!(doc["id"], "sst_classic.nc");
    let vars: Vec<&str> = doc["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert!(vars.contains(&"sst") && vars.contains(&"lat"));
    assert!(doc["bbox"].is_array() && doc["start"].is_string());
    let nb = s.json("/datasets/sst_classic.nc/notebook.ipynb").await;
    assert_eq!(nb["nbformat"], 4);
    let (status, ct, _, _) = get(s.url("/datasets/nope.nc"), "application/json").await;
    assert_eq!((status, ct.as_str()), (404, "application/json"));
    // The landing stays JSON for JSON clients.
    let landing = s.json("/?f=json").await;
    assert!(landing["datasets"].is_array());
}

#[tokio::test]
async fn static_files_are_embedded_and_long_lived() {
    let s = common::start(|_| {}).await;
    let prefix = datagate::web::STATIC_PREFIX;
    for (file, ct) in [
        ("datagate.css", "text/css"),
        ("leaflet/leaflet.js", "text/javascript"),
        ("uplot/uPlot.iife.min.js", "text/javascript"),
        ("leaflet/images/layers.png", "image/png"),
    ] {
        let (status, got, cache, _) = get(s.url(&format!("{prefix}/{file}")), "*/*").await;
        assert_eq!(status, 200, "{file}");
        assert!(got.starts_with(ct), "{file}: {got}");
        assert!(cache.contains("immutable"), "{file}");
    }
    for bad in [
        "/static/0.0.0/datagate.css",
        "/static/../Cargo.toml",
        "/static/x",
    ] {
        let (status, _, _, _) = get(s.url(bad), "*/*").await;
        assert_eq!(status, 404, "{bad}");
    }
}

/// An aggregation is its own collection, with the span and box of its files (from the
/// STAC index): the catalog's facets and time filter see it.
#[tokio::test]
async fn aggregations_are_searchable_by_collection_and_time() {
    let dir = tempfile::tempdir().unwrap();
    datagate::fixtures::daily_series(dir.path(), 10).unwrap();
    let mut config: datagate::config::Config = toml::from_str(
        r#"
        [[collections]]
        id = "daily"
        glob = "daily/sst_2*.nc"
        join_existing = "time"
        "#,
    )
    .unwrap();
    config.base_dir = dir.path().to_path_buf();
    let state = datagate::server::AppState::load(config).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { datagate::server::serve(state, listener).await.unwrap() });
    let page = |q: &str| get(format!("{base}/?{q}"), HTML);
    let (status, _, _, body) = page("").await;
    assert_eq!(status, 200);
    assert!(body.contains("data-id=\"daily\""), "{body}");
    // The aggregation and its ten files.
    assert!(
        body.contains("<option value=\"daily\">daily (11)</option>"),
        "{body}"
    );
    // Files from 2020-01-30, one a day at noon: the aggregation and two files.
    let (_, _, _, body) = page("collection=daily&start=2020-02-05&end=2020-02-06").await;
    assert_eq!(body.matches("class=\"hit\"").count(), 3);
    assert!(
        body.contains("data-id=\"daily/sst_20200205.nc\"") && body.contains("data-id=\"daily\"")
    );
    let (_, _, _, body) = page("start=2021-01-01").await;
    assert_eq!(body.matches("class=\"hit\"").count(), 0);
    let (_, _, _, body) = page("bbox=20,10,24,13").await;
    assert_eq!(body.matches("class=\"hit\"").count(), 11);
    let (_, _, _, body) = page("bbox=-50,-50,-40,-40").await;
    assert_eq!(body.matches("class=\"hit\"").count(), 0);
    let (status, ct, _, body) = get(format!("{base}/datasets/daily"), HTML).await;
    assert_eq!((status, ct.starts_with("text/html")), (200, true));
    assert!(body.contains("2020-01-30"));
}
