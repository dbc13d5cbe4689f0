//! Metadata open and hyperslab reads on a generated ~100 MB (uncompressed) NetCDF-4 file:
//! netCDF-C on the local file, and the range reader over HTTP on loopback (the same
//! file served with range support), warm and cold.
//! Run: cargo bench --bench reader

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use datagate::readers::{self, Container, NetcdfReader, ReadersConfig, formats};
use datagate::storage::{Location, Storage};
use datagate::subset::{DimSlice, Hyperslab};

/// 25 time steps of 720×1440 f32 = 104 MB of values, chunked and deflated.
fn bench_file() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("large_nc4.nc");
    if !path.exists() {
        let tmp = dir.join("large_nc4.nc.tmp");
        datagate::fixtures::large_nc4(&tmp, 25).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let loc = Location::Local(bench_file());
    let storage = std::sync::Arc::new(Storage::default());
    c.bench_function("open_metadata_nc4_100MB", |b| {
        b.to_async(&rt).iter(|| async {
            NetcdfReader::open(&loc, &formats::NETCDF4_HDF5, Container::Hdf5)
                .await
                .unwrap()
        })
    });
    let reader = rt
        .block_on(readers::open(&loc, &storage, &ReadersConfig::default()))
        .unwrap();
    let mut group = c.benchmark_group("read");
    let cases = [
        (
            "one_chunk_180x360",
            Hyperslab::new(vec![
                DimSlice::index(3),
                DimSlice::full(180),
                DimSlice::full(360),
            ]),
        ),
        (
            "time_step_720x1440",
            Hyperslab::new(vec![
                DimSlice::index(3),
                DimSlice::full(720),
                DimSlice::full(1440),
            ]),
        ),
        (
            "strided_every_10th",
            Hyperslab::new(vec![
                DimSlice {
                    start: 0,
                    stride: 5,
                    count: 5,
                },
                DimSlice {
                    start: 0,
                    stride: 10,
                    count: 72,
                },
                DimSlice {
                    start: 0,
                    stride: 10,
                    count: 144,
                },
            ]),
        ),
        (
            "time_series_point",
            Hyperslab::new(vec![
                DimSlice::full(25),
                DimSlice::index(360),
                DimSlice::index(720),
            ]),
        ),
    ];
    for (name, slab) in &cases {
        group.bench_function(*name, |b| {
            b.to_async(&rt)
                .iter(|| async { reader.read("/temp", slab).await.unwrap() })
        });
    }
    group.finish();

    // The same reads by byte ranges over HTTP, caches warm.
    let url = rt.block_on(http_server(loc.local_path().unwrap().parent().unwrap()));
    let remote =
        Location::parse(&format!("{url}/large_nc4.nc"), std::path::Path::new("/")).unwrap();
    let storage = std::sync::Arc::new(Storage::default());
    let ranged = rt
        .block_on(readers::open(&remote, &storage, &ReadersConfig::default()))
        .unwrap();
    let mut group = c.benchmark_group("range_read_warm");
    for (name, slab) in &cases {
        group.bench_function(*name, |b| {
            b.to_async(&rt)
                .iter(|| async { ranged.read("/temp", slab).await.unwrap() })
        });
    }
    group.finish();

    // Cold: a new storage (empty block cache) each time: open + one chunk.
    let mut group = c.benchmark_group("range_read_cold");
    group.bench_function("open_and_one_chunk", |b| {
        b.to_async(&rt).iter(|| async {
            let storage = std::sync::Arc::new(Storage::default());
            let r = readers::open(&remote, &storage, &ReadersConfig::default())
                .await
                .unwrap();
            r.read("/temp", &cases[0].1).await.unwrap()
        })
    });
    group.finish();
}

/// Serves `dir` over HTTP with range support on loopback.
async fn http_server(dir: &std::path::Path) -> String {
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

criterion_group! {
    name = reader;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(reader);
