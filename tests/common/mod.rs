//! The one harness integration tests share: the real server (the same accept loop,
//! guards and services as the binary) on a free loopback port, serving the fixtures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use datagate::config::Config;
use datagate::server::AppState;

pub struct Running {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    /// The served directory (the fixtures).
    pub data: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(self.url(path)).await.unwrap()
    }

    pub async fn text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    pub async fn json(&self, path: &str) -> serde_json::Value {
        let r = self.get(path).await;
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// True when `/healthz` answers `ok`.
    pub async fn healthy(&self) -> bool {
        matches!(self.text("/healthz").await, (200, t) if t == "ok")
    }
}

/// Serves `config` with the real server on a free loopback port; returns its base URL
/// (`http://127.0.0.1:PORT`). The server lives as long as the test's runtime.
pub async fn serve(config: Config) -> String {
    let state = AppState::new(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { datagate::server::serve(state, listener).await.unwrap() });
    format!("http://{addr}")
}

/// Serves a configuration made for the temporary directory (after `prepare` wrote
/// files into it; the fixtures are in `DIR/data`).
pub async fn start_config(
    prepare: impl FnOnce(&Path),
    config: impl FnOnce(&Path) -> Config,
) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    datagate::fixtures::write_all(&data).unwrap();
    prepare(dir.path());
    let base = serve(config(dir.path())).await;
    Running { base, data, dir }
}

/// Serves the fixtures directory, with `tune` adjusting the configuration.
pub async fn start(tune: impl FnOnce(&mut Config)) -> Running {
    start_config(
        |_| {},
        |d| {
            let mut c = Config::for_roots(&[d.join("data")]);
            tune(&mut c);
            c
        },
    )
    .await
}
