//! Every service's links reach the landing page, `/datasets`, STAC items, THREDDS
//! catalogs and the intake catalog, because those are built from the service list.

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::{AppState, router, services};
use crate::config::Config;

async fn get(app: &axum::Router, uri: &str) -> String {
    let res = app
        .clone()
        .oneshot(
            Request::get(uri)
                .header("host", "gw.test")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(res.status().is_success(), "{uri}: {}", res.status());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn each_service_links_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    crate::fixtures::gridded_nc4(&dir.path().join("g.nc")).unwrap();
    let state = AppState::new(Config::for_roots(&[dir.path().to_path_buf()]));
    let list = services(&state);
    let app = router(state);
    let landing = get(&app, "/?f=json").await;
    let datasets = get(&app, "/datasets").await;
    let html = get(&app, "/datasets/g.nc?f=html").await;
    let item = get(&app, "/stac/search?ids=g.nc").await;
    let thredds = get(&app, "/thredds/catalog.xml").await;
    let intake = get(&app, "/intake/catalog.yaml").await;
    let base = "http://gw.test";
    for service in &list {
        for e in service.endpoints(base, "g.nc") {
            let href = serde_json::to_string(&e.href).unwrap();
            assert!(
                landing.contains(&href),
                "{}: {} not on landing",
                service.name(),
                e.href
            );
            assert!(
                datasets.contains(&href),
                "{}: {} not in /datasets",
                service.name(),
                e.href
            );
            let escaped = crate::http::html_escape(&e.href);
            assert!(
                html.contains(&escaped),
                "{}: {} not in HTML",
                service.name(),
                e.href
            );
            if !e.roles.is_empty() {
                let asset = format!("\"{}\":{{", e.rel);
                assert!(
                    item.contains(&asset),
                    "{}: no STAC asset {}",
                    service.name(),
                    e.rel
                );
                assert!(
                    item.contains(&href),
                    "{}: {} not in STAC",
                    service.name(),
                    e.href
                );
            }
            if e.intake.is_some() {
                assert!(
                    intake.contains(&href),
                    "{}: {} not in intake",
                    service.name(),
                    e.href
                );
            }
        }
        for link in service.service_links(base) {
            let href = serde_json::to_string(&link.href).unwrap();
            assert!(
                landing.contains(&href),
                "{}: {} not on landing",
                service.name(),
                link.href
            );
        }
        for t in service.thredds_services() {
            let element = format!("serviceType=\"{}\" base=\"{}\"", t.service_type, t.base);
            assert!(
                thredds.contains(&element),
                "{}: {element} not in THREDDS",
                service.name()
            );
        }
    }
    // Every service contributes somewhere, so none is silently left out.
    for service in &list {
        assert!(
            !service.endpoints(base, "g.nc").is_empty()
                || !service.service_links(base).is_empty()
                || !service.thredds_services().is_empty(),
            "{} offers no link",
            service.name()
        );
    }
}
