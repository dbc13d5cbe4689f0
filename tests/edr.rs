//! OGC API EDR on the real server over the fixtures: metadata, each query type's values
//! against the fixtures' own value functions, negotiation, and the error statuses.

mod common;

use datagate::config::{Config, EdrLocationConfig};
use datagate::fixtures::{sst_value, temp_value};
use serde_json::Value;

struct Running {
    base: String,
    _dir: tempfile::TempDir,
}

async fn start(limit: Option<u64>) -> Running {
    let dir = tempfile::tempdir().unwrap();
    datagate::fixtures::write_all(&dir.path().join("data")).unwrap();
    let mut config = Config::for_roots(&[dir.path().join("data")]);
    if let Some(l) = limit {
        config.limits.max_response_bytes = l;
    }
    config.edr.locations.push(EdrLocationConfig {
        id: "gulf".into(),
        name: Some("Gulf".into()),
        coords: "POINT(60 -5)".into(),
        collections: vec![],
    });
    let base = common::serve(config).await;
    Running {
        base: format!("{base}/edr"),
        _dir: dir,
    }
}

async fn get(url: &str) -> (u16, String, String) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

async fn json(url: &str) -> Value {
    let (status, _, body) = get(url).await;
    assert_eq!(status, 200, "{url}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn floats(v: &Value) -> Vec<Option<f64>> {
    v.as_array().unwrap().iter().map(Value::as_f64).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-4 * b.abs().max(1.0)
}

#[tokio::test]
async fn metadata_documents() {
    let s = start(None).await;
    let landing = json(&s.base).await;
    assert!(
        landing["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "service-desc")
    );
    let conf = json(&format!("{}/conformance", s.base)).await;
    let classes: Vec<&str> = conf["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-edr-1/1.0/conf/core"));
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/covjson"));
    let col = json(&format!("{}/collections/sst_classic.nc", s.base)).await;
    assert_eq!(col["id"], "sst_classic.nc");
    assert_eq!(
        col["extent"]["temporal"]["values"][1],
        "2000-02-01T00:00:00Z"
    );
    assert_eq!(col["parameter_names"]["sst"]["unit"]["label"], "K");
    let api = json(&format!("{}/api", s.base)).await;
    assert_eq!(api["openapi"], "3.0.3");
    let (status, ct, body) = get(&format!("{}/collections?f=html", s.base)).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html") && body.contains("gridded_nc4.nc"));
}

#[tokio::test]
async fn position_series_is_decoded() {
    let s = start(None).await;
    // lat 15 = row 3, lon 40 = column 2; asked as -320 (another turn of longitude).
    let doc = json(&format!(
        "{}/collections/sst_classic.nc/position?coords=POINT(-320%2015)&parameter-name=sst,sst_packed",
        s.base
    ))
    .await;
    assert_eq!(doc["domain"]["domainType"], "PointSeries");
    let sst = floats(&doc["ranges"]["sst"]["values"]);
    let packed = floats(&doc["ranges"]["sst_packed"]["values"]);
    for t in 0..3 {
        let want = sst_value(t, 3, 2).unwrap() as f64;
        assert!(close(sst[t].unwrap(), want), "{sst:?}");
        assert!(close(packed[t].unwrap(), want), "{packed:?}");
    }
    // Land: null.
    let doc = json(&format!(
        "{}/collections/sst_classic.nc/position?coords=POINT(60%2025)&parameter-name=sst",
        s.base
    ))
    .await;
    assert_eq!(floats(&doc["ranges"]["sst"]["values"]), vec![None; 3]);
}

#[tokio::test]
async fn cube_area_and_trajectory() {
    let s = start(None).await;
    let doc = json(&format!(
        "{}/collections/gridded_nc4.nc/cube?bbox=170,-5,-170,5&z=10&datetime=2020-01-01T06:00:00Z&parameter-name=temp",
        s.base
    ))
    .await;
    assert_eq!(
        doc["domain"]["axes"]["x"]["values"],
        serde_json::json!([175.0, 185.0])
    );
    // lat -2.5 = row 9, 2.5 = row 10; lon 175 = column 35, -175 = column 0.
    let got = floats(&doc["ranges"]["temp"]["values"]);
    let want = [
        temp_value(1, 1, 9, 35),
        temp_value(1, 1, 9, 0),
        temp_value(1, 1, 10, 35),
        temp_value(1, 1, 10, 0),
    ];
    for (g, w) in got.iter().zip(want) {
        assert!(close(g.unwrap(), w.unwrap() as f64));
    }
    let doc = json(&format!(
        "{}/collections/sst_classic.nc/area?coords=POLYGON((30%2010,50%2010,50%2030,30%2030,30%2010))&parameter-name=sst&datetime=2000-01-01",
        s.base
    ))
    .await;
    assert_eq!(doc["domain"]["domainType"], "Grid");
    assert_eq!(doc["ranges"]["sst"]["shape"], serde_json::json!([1, 2, 1]));
    let doc = json(&format!(
        "{}/collections/sst_classic.nc/trajectory?coords=LINESTRINGM(41%2016%20946684800,79%204%20949363200)&parameter-name=sst",
        s.base
    ))
    .await;
    assert_eq!(doc["domain"]["domainType"], "Trajectory");
    let got = floats(&doc["ranges"]["sst"]["values"]);
    assert!(close(got[0].unwrap(), sst_value(0, 3, 2).unwrap() as f64));
    assert!(close(got[1].unwrap(), sst_value(1, 4, 4).unwrap() as f64));
}

#[tokio::test]
async fn formats_and_locations() {
    let s = start(None).await;
    let (status, ct, body) = get(&format!(
        "{}/collections/sst_classic.nc/position?coords=POINT(40%2015)&parameter-name=sst&f=CSV",
        s.base
    ))
    .await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"));
    assert_eq!(body.lines().count(), 4);
    assert!(body.starts_with("datetime,longitude,latitude,sst"));
    let fc = json(&format!(
        "{}/collections/sst_classic.nc/radius?coords=POINT(40%2015)&within=100&parameter-name=sst&f=GeoJSON&datetime=2000-01-01",
        s.base
    ))
    .await;
    assert_eq!(fc["features"].as_array().unwrap().len(), 1);
    let r = reqwest::get(format!(
        "{}/collections/gridded_nc4.nc/cube?bbox=0,0,20,10&parameter-name=temp&f=NetCDF",
        s.base
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-netcdf");
    assert!(r.bytes().await.unwrap().starts_with(b"\x89HDF"));
    let locs = json(&format!("{}/collections/sst_classic.nc/locations", s.base)).await;
    assert_eq!(locs["features"][0]["id"], "gulf");
    let doc = json(&format!(
        "{}/collections/sst_classic.nc/locations/gulf?parameter_names=sst",
        s.base
    ))
    .await;
    let got = floats(&doc["ranges"]["sst"]["values"]);
    assert!(close(got[0].unwrap(), sst_value(0, 5, 3).unwrap() as f64));
}

#[tokio::test]
async fn error_statuses() {
    let s = start(Some(2000)).await;
    for (url, want) in [
        ("/collections/sst_classic.nc/position?coords=POINT(10", 400),
        (
            "/collections/sst_classic.nc/position?coords=POINT(10%200)&datetime=soon",
            400,
        ),
        ("/collections/none.nc/position?coords=POINT(10%200)", 404),
        ("/collections/sst_classic.nc/locations/none", 404),
        ("/collections/gridded_nc4.nc/cube?bbox=-180,-90,180,90", 413),
        (
            "/collections/sst_classic.nc/position?coords=POINT(10%200)&datetime=1900-01-01",
            204,
        ),
    ] {
        let (status, ct, body) = get(&format!("{}{url}", s.base)).await;
        assert_eq!(status, want, "{url}: {body}");
        if want != 204 {
            assert!(ct.starts_with("application/problem+json"));
            let p: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(p["status"], want);
            assert_eq!(p["code"], want);
        } else {
            assert!(body.is_empty());
        }
    }
}
