//! DAP4 `.dap` responses: encoding + chunk framing alone, and whole requests through the
//! router (read, encode, frame, optional CRC-32), on the gridded fixture and on a
//! generated ~100 MB NetCDF-4 file.
//! Run: cargo bench --bench dap4

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datagate::config::Config;
use datagate::dap4::chunk::Framer;
use datagate::dap4::encode::encode_values;
use datagate::model::ArrayValues;
use datagate::server::{AppState, router};
use futures::StreamExt;
use tower::ServiceExt;

/// The bench data directory: the gridded fixture and 25 time steps of 720×1440 f32.
fn bench_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-dap4");
    std::fs::create_dir_all(&dir).unwrap();
    let large = dir.join("large_nc4.nc");
    if !large.exists() {
        let tmp = dir.join("large_nc4.tmp");
        datagate::fixtures::large_nc4(&tmp, 25).unwrap();
        std::fs::rename(&tmp, &large).unwrap();
    }
    let gridded = dir.join("gridded_nc4.nc");
    if !gridded.exists() {
        datagate::fixtures::gridded_nc4(&gridded).unwrap();
    }
    dir
}

async fn fetch(app: &axum::Router, uri: &str) -> usize {
    let r = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(r.status().is_success(), "{uri}: {}", r.status());
    // Consume the stream as a client would, without collecting it.
    let mut body = r.into_body().into_data_stream();
    let mut n = 0;
    while let Some(frame) = body.next().await {
        n += frame.unwrap().len();
    }
    n
}

fn app(dir: &Path) -> axum::Router {
    let mut config = Config::for_roots(&[dir.to_path_buf()]);
    config.server.compression = false;
    router(AppState::new(config))
}

fn benches(c: &mut Criterion) {
    let values = ArrayValues::F32((0..1_048_576).map(|i| i as f32 * 0.25).collect());
    let mut group = c.benchmark_group("dap4_encode");
    group.throughput(Throughput::Bytes(4 * 1_048_576));
    // One framer per response, as in the server (the pending buffer is reused
    // across blocks, the chunk buffers are recycled by the allocator).
    let mut framer = Framer::new();
    let mut ready = VecDeque::new();
    for crc in [false, true] {
        let name = if crc {
            "f32_4MiB_encode_frame_crc32"
        } else {
            "f32_4MiB_encode_frame"
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                encode_values(&values, &mut framer.pending);
                let sum = if crc {
                    crc32fast::hash(&framer.pending)
                } else {
                    0
                };
                framer.take_full(&mut ready);
                let n: usize = ready.drain(..).map(|b| b.len()).sum();
                n + framer.finish().len() + sum as usize
            })
        });
    }
    group.finish();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = bench_dir();
    let app = rt.block_on(async { app(&dir) });
    let mut group = c.benchmark_group("dap4_request");
    group.sample_size(20);
    let cases = [
        (
            "gridded_temp_slice_1x1x10x18",
            "/opendap/gridded_nc4.nc.dap?dap4.ce=/temp[0][0][0:9][0:17]",
        ),
        (
            "gridded_temp_whole",
            "/opendap/gridded_nc4.nc.dap?dap4.ce=/temp",
        ),
        ("gridded_whole_dataset", "/opendap/gridded_nc4.nc.dap"),
        (
            "large_one_chunk_180x360",
            "/opendap/large_nc4.nc.dap?dap4.ce=/temp[3][0:179][0:359]",
        ),
        (
            "large_time_step_720x1440",
            "/opendap/large_nc4.nc.dap?dap4.ce=/temp[3]",
        ),
        (
            "large_time_step_720x1440_crc32",
            "/opendap/large_nc4.nc.dap?dap4.ce=/temp[3]&dap4.checksum=true",
        ),
    ];
    for (name, uri) in cases {
        group.bench_function(name, |b| b.to_async(&rt).iter(|| fetch(&app, uri)));
    }
    group.sample_size(10);
    group.throughput(Throughput::Bytes(25 * 720 * 1440 * 4));
    group.bench_function("large_whole_variable_104MB", |b| {
        b.to_async(&rt)
            .iter(|| fetch(&app, "/opendap/large_nc4.nc.dap?dap4.ce=/temp"))
    });
    // Baseline: the same reads without DAP4 (what encoding and framing add to).
    let (catalog, _) = datagate::catalog::Catalog::from_config(
        &Config::for_roots(std::slice::from_ref(&dir)),
        std::sync::Arc::new(datagate::metrics::Metrics::new()),
    );
    let ds = rt.block_on(catalog.open("large_nc4.nc")).unwrap();
    let slab = datagate::subset::Hyperslab::full(&[25, 720, 1440]);
    group.bench_function("large_whole_variable_104MB_read_only", |b| {
        b.to_async(&rt).iter(|| async {
            let mut blocks = std::pin::pin!(ds.read_blocks("/temp", &slab, 4 << 20));
            let mut n = 0;
            while let Some(a) = blocks.next().await {
                n += a.unwrap().len();
            }
            n
        })
    });
    group.bench_function("large_whole_variable_104MB_crc32_cached", |b| {
        b.to_async(&rt).iter(|| {
            fetch(
                &app,
                "/opendap/large_nc4.nc.dap?dap4.ce=/temp&dap4.checksum=true",
            )
        })
    });
    group.finish();
}

criterion_group!(dap4, benches);
criterion_main!(dap4);
