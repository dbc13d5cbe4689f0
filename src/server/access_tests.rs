//! Every per-dataset endpoint any service links is checked by the access middleware:
//! a service (or page) that forgot `Service::datasets` fails here.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use super::{AppState, router, services};
use crate::config::{AccessRule, Config, RootConfig};

async fn status(app: &axum::Router, uri: &str, auth: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::get(uri).header("host", "gw.test");
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let cache = res
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (res.status(), cache)
}

/// A catalog of the gridded fixture twice, public as `g.nc` and as
/// `restricted/g.nc` for alice alone (users alice and bob, password `pw`).
pub(super) fn public_and_restricted(dir: &std::path::Path) -> Config {
    crate::fixtures::gridded_nc4(&dir.join("g.nc")).unwrap();
    let hash = bcrypt::hash("pw", 4).unwrap();
    std::fs::write(dir.join("users"), format!("alice:{hash}\nbob:{hash}\n")).unwrap();
    let mut config = Config {
        roots: ["restricted/", ""]
            .map(|prefix| RootConfig {
                path: dir.display().to_string(),
                prefix: prefix.into(),
            })
            .into(),
        access: vec![AccessRule {
            datasets: "restricted/**".into(),
            allow: vec!["user:alice".into()],
        }],
        base_dir: dir.to_path_buf(),
        ..Config::default()
    };
    config.auth.users_file = Some("users".into());
    config
}

#[tokio::test]
async fn every_linked_endpoint_of_a_restricted_dataset_is_checked() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let config = public_and_restricted(dir.path());
    let state = AppState::new(config);
    let list = services(&state);
    let app = router(state);
    let basic = |u: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:pw"))
        )
    };
    let (alice, bob) = (basic("alice"), basic("bob"));
    let mut checked = 0;
    for service in &list {
        for e in service.endpoints("http://gw.test", "restricted/g.nc") {
            let uri = e.href.trim_start_matches("http://gw.test");
            let what = format!("{} {uri}", service.name());
            assert_eq!(
                status(&app, uri, None).await.0,
                StatusCode::UNAUTHORIZED,
                "{what}"
            );
            assert_eq!(
                status(&app, uri, Some(&bob)).await.0,
                StatusCode::NOT_FOUND,
                "{what}"
            );
            // Alice gets what anyone gets for the same file when it is public.
            let public = uri.replacen("restricted/g.nc", "g.nc", 1);
            let (code, cache) = status(&app, uri, Some(&alice)).await;
            assert_eq!(code, status(&app, &public, None).await.0, "{what}");
            assert!(
                cache.starts_with("private") && !cache.contains("public"),
                "{what}: {cache}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked}");
}
