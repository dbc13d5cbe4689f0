//! WMS on the real server: capabilities, GetMap pixels, feature info, errors, tiles.

mod common;

use datagate::config::Config;

struct Server {
    base: String,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    datagate::fixtures::write_all(dir.path()).unwrap();
    let base = common::serve(Config::for_roots(&[dir.path().to_path_buf()])).await;
    Server { base, _dir: dir }
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::get(url).await.unwrap()
}

fn rgba(bytes: &[u8]) -> image::RgbaImage {
    image::load_from_memory(bytes).unwrap().to_rgba8()
}

const MAP: &str =
    "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=sst_classic.nc/sst&WIDTH=360&HEIGHT=180";

#[tokio::test]
async fn capabilities_list_layers_in_both_versions() {
    let s = start().await;
    for (v, root, ctype) in [
        ("1.3.0", "<WMS_Capabilities version=\"1.3.0\"", "text/xml"),
        (
            "1.1.1",
            "<WMT_MS_Capabilities version=\"1.1.1\"",
            "application/vnd.ogc.wms_xml",
        ),
    ] {
        let r = get(&format!(
            "{}/wms?service=WMS&request=GetCapabilities&version={v}",
            s.base
        ))
        .await;
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(ctype)
        );
        let body = r.text().await.unwrap();
        assert!(body.contains(root), "{v}");
        assert!(body.contains("<Name>sst_classic.nc/sst</Name>"));
        assert!(body.contains("<Name>curvilinear.nc/temp</Name>"));
        assert!(body.contains("2000-01-01T00:00:00Z/2000-03-01T00:00:00Z/P1M"));
        assert!(!body.contains("<Name>sst_classic.nc/lat</Name>"));
        // Well-formed XML.
        let mut reader = quick_xml::Reader::from_str(&body);
        loop {
            match reader.read_event().unwrap() {
                quick_xml::events::Event::Eof => break,
                _ => continue,
            }
        }
    }
    let one = get(&format!(
        "{}/wms/sst_classic.nc?request=GetCapabilities",
        s.base
    ))
    .await
    .text()
    .await
    .unwrap();
    assert!(one.contains("<Name>sst</Name>") && !one.contains("gridded_nc4"));
}

#[tokio::test]
async fn getmap_puts_the_data_where_it_belongs() {
    let s = start().await;
    let url = format!(
        "{}/wms?{MAP}&CRS=CRS:84&BBOX=-180,-90,180,90&TRANSPARENT=TRUE&FORMAT=image/png",
        s.base
    );
    let r = get(&url).await;
    assert_eq!(r.headers()["content-type"], "image/png");
    let img = rgba(&r.bytes().await.unwrap());
    assert_eq!(img.dimensions(), (360, 180));
    // Land at 25N 60E (pixel 240, 65) is transparent; 25S 60E is not.
    assert_eq!(img.get_pixel(240, 64)[3], 0);
    assert_eq!(img.get_pixel(240, 115)[3], 255);
    // Beyond 50N: no data.
    assert_eq!(img.get_pixel(100, 20)[3], 0);
    // 1.3.0 EPSG:4326 with lat,lon gives the same picture.
    let swapped = format!(
        "{}/wms?{MAP}&CRS=EPSG:4326&BBOX=-90,-180,90,180&TRANSPARENT=TRUE",
        s.base
    );
    let img2 = rgba(&get(&swapped).await.bytes().await.unwrap());
    assert_eq!(img, img2);
}

#[tokio::test]
async fn feature_info_reads_the_value() {
    let s = start().await;
    let url = format!(
        "{}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=sst_classic.nc/sst&QUERY_LAYERS=sst_classic.nc/sst&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=360&HEIGHT=180&I=200&J=64&INFO_FORMAT=application/json&TIME=2000-01-01",
        s.base
    );
    let v: serde_json::Value = get(&url).await.json().await.unwrap();
    let f = &v["features"][0];
    let want = datagate::fixtures::sst_value(0, 2, 1).unwrap() as f64;
    assert!((f["value"].as_f64().unwrap() - want).abs() < 1e-4, "{f}");
}

#[tokio::test]
async fn errors_are_service_exceptions() {
    let s = start().await;
    let cases = [
        (
            "&CRS=CRS:84&BBOX=0,0,1,1&STYLES=nope",
            "StyleNotDefined",
            "1.3.0",
        ),
        ("&CRS=EPSG:1&BBOX=0,0,1,1", "InvalidCRS", "1.3.0"),
        (
            "&CRS=CRS:84&BBOX=0,0,1,1&FORMAT=image/bmp",
            "InvalidFormat",
            "1.3.0",
        ),
        (
            "&CRS=CRS:84&BBOX=0,0,1,1&TIME=1990-01-01",
            "InvalidDimensionValue",
            "1.3.0",
        ),
        ("&CRS=CRS:84&BBOX=1,0,0,1", "InvalidParameterValue", "1.3.0"),
    ];
    for (extra, code, _) in cases {
        let r = get(&format!("{}/wms?{MAP}{extra}", s.base)).await;
        assert_eq!(r.status(), 400, "{extra}");
        assert_eq!(r.headers()["content-type"], "text/xml");
        let body = r.text().await.unwrap();
        assert!(
            body.contains(&format!("code=\"{code}\"")),
            "{extra}: {body}"
        );
        assert!(body.contains("xmlns=\"http://www.opengis.net/ogc\""));
    }
    let r = get(&format!(
        "{}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=x.nc/y&CRS=CRS:84&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1",
        s.base
    ))
    .await;
    assert!(r.text().await.unwrap().contains("code=\"LayerNotDefined\""));
    let r = get(&format!(
        "{}/wms?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&LAYERS=sst_classic.nc/sst&SRS=EPSG:2&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1&FORMAT=image/png",
        s.base
    ))
    .await;
    assert_eq!(r.headers()["content-type"], "application/vnd.ogc.se_xml");
    assert!(r.text().await.unwrap().contains("code=\"InvalidSRS\""));
}

#[tokio::test]
async fn tiles_are_web_mercator_pngs() {
    let s = start().await;
    let r = get(&format!(
        "{}/wms/tiles/sst_classic.nc/sst/0/0/0.png",
        s.base
    ))
    .await;
    assert_eq!(r.status(), 200);
    let img = rgba(&r.bytes().await.unwrap());
    assert_eq!(img.dimensions(), (256, 256));
    assert_eq!(img.get_pixel(128, 5)[3], 0);
    assert_eq!(img.get_pixel(128, 128)[3], 255);
}
