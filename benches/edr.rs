//! EDR requests on the real server over loopback: a position time series and a
//! 100×100-cell area, encoded as CoverageJSON and CSV, on a 720×1440×25 NetCDF-4 grid.
//! Run: cargo bench --bench edr

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datagate::config::Config;
use datagate::server::{AppState, router};

/// The reader bench's file (25 time steps of 720×1440 f32, chunked and deflated),
/// alone in its directory.
fn bench_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-edr");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("large.nc");
    if !path.exists() {
        let tmp = std::env::temp_dir().join("datagate-bench-edr-large.nc.tmp");
        datagate::fixtures::large_nc4(&tmp, 25).unwrap();
        std::fs::copy(&tmp, &path).unwrap();
        let _ = std::fs::remove_file(&tmp);
    }
    dir
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = rt.block_on(async {
        let state = AppState::new(Config::for_roots(&[bench_dir()]));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
        format!("http://{addr}/edr/collections/large.nc")
    });
    let client = reqwest::Client::new();
    // A grid of 0.25°: 25° × 25° is 100 × 100 cell centres.
    let cases = [
        (
            "position_series_25_covjson",
            format!("{base}/position?coords=POINT(10.1%2045.1)"),
            25u64,
        ),
        (
            "area_100x100_covjson",
            format!(
                "{base}/area?coords=POLYGON((0%200,25%200,25%2025,0%2025,0%200))&datetime=2000-01-05"
            ),
            10_000,
        ),
        (
            "area_100x100_csv",
            format!(
                "{base}/area?coords=POLYGON((0%200,25%200,25%2025,0%2025,0%200))&datetime=2000-01-05&f=CSV"
            ),
            10_000,
        ),
        (
            "area_100x100_triangle_covjson",
            format!("{base}/area?coords=POLYGON((0%200,25%200,0%2025,0%200))&datetime=2000-01-05"),
            10_000,
        ),
    ];
    // Warm the metadata and coordinate caches, and check the answers.
    for (name, url, _) in &cases {
        let r = rt.block_on(client.get(url).send()).unwrap();
        assert_eq!(r.status(), 200, "{name}");
    }
    let mut group = c.benchmark_group("edr");
    for (name, url, values) in &cases {
        group.throughput(Throughput::Elements(*values));
        group.bench_function(*name, |b| {
            b.to_async(&rt).iter(|| async {
                let r = client.get(url).send().await.unwrap();
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = edr;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(edr);
