//! GRIB end to end: a file over HTTP read by byte ranges equals the local read, and a
//! field costs at most a range request or two once the index is built; a served
//! directory lists a file of several hypercubes as `{file}/{part}` and skips a damaged
//! GRIB, the server staying up.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use datagate::app::AppState;
use datagate::config::Config;
use datagate::metrics::Metrics;
use datagate::readers::{self, Reader, ReadersConfig, grib_testdata};
use datagate::storage::{Location, Storage, StorageConfig};
use datagate::subset::{DimSlice, Hyperslab};

/// Serves `dir` over HTTP with range support on loopback.
async fn http_server(dir: &Path) -> String {
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn same_everywhere(remote: &dyn Reader, local: &dyn Reader) {
    assert_eq!(remote.metadata(), local.metadata());
    for v in local.metadata().variables() {
        let slab = Hyperslab::full(&v.shape());
        let (a, b) = (
            remote.read(&v.path, &slab).await,
            local.read(&v.path, &slab).await,
        );
        assert_eq!(a.unwrap(), b.unwrap(), "{}", v.path);
    }
}

#[tokio::test]
async fn remote_grib_by_ranges_equals_local() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pl.grib2"),
        grib_testdata::pressure_levels().unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("mixed.grb2"),
        grib_testdata::mixed_levels().unwrap(),
    )
    .unwrap();
    let base = http_server(dir.path()).await;
    let config = StorageConfig {
        block_bytes: 4 << 10,
        ..StorageConfig::default()
    };
    let storage = Arc::new(Storage::new(config, Arc::new(Metrics::new())));
    let local_storage = Arc::new(Storage::default());
    let rc = ReadersConfig::default();

    let loc = Location::parse(&format!("{base}/pl.grib2"), Path::new("/")).unwrap();
    let remote = readers::open(&loc, &storage, &rc).await.unwrap();
    let local_loc = Location::Local(dir.path().join("pl.grib2"));
    let local = readers::open(&local_loc, &local_storage, &rc)
        .await
        .unwrap();
    assert_eq!(remote.format().name, "grib");
    // A field not read yet (the block cache holds the file's blocks, so evicting is
    // not possible here: what is checked is that one field is one range at most).
    let before = storage.range_counters().requests.load(Ordering::Relaxed);
    let one_field = Hyperslab::new(vec![
        DimSlice::index(1),
        DimSlice::index(0),
        DimSlice::index(2),
        DimSlice::full(5),
        DimSlice::full(8),
    ]);
    let got = remote.read("/u", &one_field).await.unwrap();
    assert_eq!(got, local.read("/u", &one_field).await.unwrap());
    let cost = storage.range_counters().requests.load(Ordering::Relaxed) - before;
    assert!(cost <= 2, "{cost} range requests for one field");
    same_everywhere(remote.as_ref(), local.as_ref()).await;

    let loc = Location::parse(&format!("{base}/mixed.grb2"), Path::new("/")).unwrap();
    let remote = readers::open(&loc, &storage, &rc).await.unwrap();
    let local_loc = Location::Local(dir.path().join("mixed.grb2"));
    let local = readers::open(&local_loc, &local_storage, &rc)
        .await
        .unwrap();
    assert_eq!(
        remote.parts(),
        ["heightAboveGround", "isobaricInhPa", "surface"]
    );
    for p in remote.parts() {
        same_everywhere(
            remote.part(&p).unwrap().as_ref(),
            local.part(&p).unwrap().as_ref(),
        )
        .await;
    }
}

#[tokio::test]
async fn a_served_directory_splits_grib_files_and_skips_damaged_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mixed = grib_testdata::mixed_levels().unwrap();
    std::fs::write(dir.path().join("mixed.grib2"), &mixed).unwrap();
    std::fs::write(
        dir.path().join("damaged.grib2"),
        &mixed[..mixed.len() - 100],
    )
    .unwrap();
    std::fs::write(dir.path().join("z.grib"), grib_testdata::grib1().unwrap()).unwrap();
    // A mixed directory: NetCDF beside GRIB.
    datagate::fixtures::types_cdf5(&dir.path().join("types.nc")).unwrap();
    let state = AppState::load(Config::for_roots(&[dir.path().to_path_buf()])).await;
    let ids: Vec<String> = state.catalog.entries().keys().cloned().collect();
    assert_eq!(
        ids,
        [
            "mixed.grib2/heightAboveGround",
            "mixed.grib2/isobaricInhPa",
            "mixed.grib2/surface",
            "types.nc",
            "z.grib"
        ]
    );
    // Discovery's time extent of a forecast: its valid times (reference + step).
    let sfc = state.catalog.open("mixed.grib2/surface").await.unwrap();
    let (first, last) = sfc.extent().await.unwrap().time.unwrap();
    assert_eq!(
        (first.to_iso(), last.to_iso()),
        ("2024-01-01T12:00:00Z".into(), "2024-01-01T18:00:00Z".into())
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { datagate::server::serve(state, listener).await.unwrap() });
    let get = |path: &str| reqwest::get(format!("{base}{path}"));
    let dds = get("/opendap/mixed.grib2/surface.dds").await.unwrap();
    assert_eq!(dds.status(), 200);
    let text = dds.text().await.unwrap();
    assert!(
        text.contains("sp[step = 2][latitude = 5][longitude = 8]"),
        "{text}"
    );
    let listing: serde_json::Value = get("/datasets").await.unwrap().json().await.unwrap();
    let formats: Vec<&str> = listing["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["format"].as_str())
        .collect();
    assert_eq!(formats, ["grib", "grib", "grib", "netcdf3-cdf5", "grib"]);
    assert_eq!(
        get("/opendap/damaged.grib2.dds").await.unwrap().status(),
        404
    );
    assert_eq!(get("/opendap/mixed.grib2.dds").await.unwrap().status(), 404);
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
}

#[tokio::test]
async fn grib_files_aggregate_along_time() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("fc")).unwrap();
    for (name, day) in [("a.grib2", 0), ("b.grib2", 2)] {
        let bytes = grib_testdata::pressure_levels_from(day).unwrap();
        std::fs::write(dir.path().join("fc").join(name), bytes).unwrap();
    }
    let mut config = Config::parse(
        r#"
        [[collections]]
        id = "forecasts"
        glob = "fc/*.grib2"
        join_existing = "time"
        "#,
    )
    .unwrap();
    config.base_dir = dir.path().to_path_buf();
    let state = AppState::load(config).await;
    let agg = state.catalog.open("forecasts").await.unwrap();
    assert_eq!(agg.meta.variable("/t").unwrap().shape(), [4, 2, 3, 5, 8]);
    let valid = agg
        .read("/valid_time", &Hyperslab::full(&[4, 2]))
        .await
        .unwrap();
    assert_eq!(
        valid.values.get_f64(7),
        1704110400.0 + 3.0 * 86400.0 + 6.0 * 3600.0
    );
    let time = agg.read("/time", &Hyperslab::full(&[4])).await.unwrap();
    let day = 86400.0;
    let t0 = 1704110400.0;
    assert_eq!(
        time.values.to_f64(),
        [t0, t0 + day, t0 + 2.0 * day, t0 + 3.0 * day]
    );
    // Day 3 (the second file's second date), step 6 h, 250 hPa, first point.
    let slab = Hyperslab::new(vec![
        DimSlice::index(3),
        DimSlice::index(1),
        DimSlice::index(2),
        DimSlice::index(0),
        DimSlice::index(0),
    ]);
    let got = agg.read("/t", &slab).await.unwrap().values.to_f64();
    assert_eq!(got, [grib_testdata::value(0, 3, 6, 250, 0) as f32 as f64]);
}
