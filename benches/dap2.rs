//! DAP2 `.dods` hot path: XDR encoding of subsets, and whole requests through the router
//! (read + encode + stream) over the chunked, deflated `large_nc4` fixture.
//!
//! `cargo bench --bench dap2`

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datagate::config::Config;
use datagate::dap2::Dap2Type;
use datagate::dap2::xdr;
use datagate::model::ArrayValues;
use datagate::server::{AppState, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("dap2_xdr");
    for (name, n, dtype, values) in [
        (
            "f32_300x400",
            300 * 400,
            Dap2Type::Float32,
            ArrayValues::F32((0..300 * 400).map(|k| k as f32 * 0.5).collect()),
        ),
        (
            "i16_300x400",
            300 * 400,
            Dap2Type::Int16,
            ArrayValues::I16((0..300 * 400).map(|k| k as i16).collect()),
        ),
        (
            "f64_1440x720",
            1440 * 720,
            Dap2Type::Float64,
            ArrayValues::F64((0..1440 * 720).map(|k| k as f64).collect()),
        ),
    ] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(name, |b| {
            let mut out = Vec::with_capacity(n * 8 + 8);
            b.iter(|| {
                out.clear();
                xdr::prefix(dtype, n, false, &mut out);
                xdr::values(dtype, &values, None, false, &mut out);
                xdr::suffix(dtype, n, false, &mut out);
                std::hint::black_box(out.len())
            })
        });
    }
    g.finish();
}

fn requests(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    datagate::fixtures::large_nc4(&dir.path().join("large.nc"), 10).unwrap();
    let mut config = Config::for_roots(&[dir.path().to_path_buf()]);
    config.server.compression = false;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(async { router(AppState::new(config)) });
    let mut g = c.benchmark_group("dap2_dods");
    g.sample_size(10);
    for (name, ce, bytes) in [
        (
            "subset_300x400",
            "temp.temp[3][100:399][200:599]",
            300 * 400 * 4,
        ),
        (
            "globe_10_steps",
            "temp.temp[0:9][0:719][0:1439]",
            10 * 720 * 1440 * 4,
        ),
    ] {
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let req = Request::get(format!("/opendap/large.nc.dods?{ce}"))
                        .body(Body::empty())
                        .unwrap();
                    let r = app.clone().oneshot(req).await.unwrap();
                    assert_eq!(r.status(), 200);
                    let body = r.into_body().collect().await.unwrap().to_bytes();
                    std::hint::black_box(body.len())
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, encode, requests);
criterion_main!(benches);
