//! Virtual Zarr hot paths through the real router: a stored chunk passed through (one
//! range read) against a chunk read through netCDF-C and zlib-encoded, the cold open of
//! a 10 GB-class dataset's consolidated metadata, and its first chunk (which reads the
//! variable's whole chunk index).

use std::path::Path;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datagate::config::Config;
use datagate::server::{AppState, router};
use tower::ServiceExt;

/// `temp(time, lat, lon)` f32 in NetCDF-3, time the record dimension: served decoded,
/// 4 MB per chunk (one step).
fn classic(path: &Path, nt: usize) {
    let (ny, nx) = (720usize, 1440usize);
    let mut f = netcdf::create_with(path, netcdf::Options::empty()).unwrap();
    f.add_dimension("time", nt).unwrap();
    f.add_dimension("lat", ny).unwrap();
    f.add_dimension("lon", nx).unwrap();
    f.add_variable::<f32>("temp", &["time", "lat", "lon"])
        .unwrap();
    f.enddef().unwrap();
    let vals: Vec<f32> = (0..ny * nx)
        .map(|p| 280.0 + (p % 977) as f32 * 0.01)
        .collect();
    let mut v = f.variable_mut("temp").unwrap();
    for t in 0..nt {
        v.put_values(&vals, [t..t + 1, 0..ny, 0..nx]).unwrap();
    }
}

/// `temp(2500, 720, 1440)` f32 (10.4 GB uncompressed) in 10 000 deflated chunks of
/// 1×360×720; zeros, so the file stays small.
fn ten_gb_class(path: &Path) {
    let (nt, ny, nx) = (2500usize, 720usize, 1440usize);
    let mut f = netcdf::create_with(path, netcdf::Options::NETCDF4).unwrap();
    f.add_dimension("time", nt).unwrap();
    f.add_dimension("lat", ny).unwrap();
    f.add_dimension("lon", nx).unwrap();
    let mut v = f
        .add_variable::<f32>("temp", &["time", "lat", "lon"])
        .unwrap();
    v.set_chunking(&[1, 360, 720]).unwrap();
    v.set_compression(1, true).unwrap();
    let zeros = vec![0f32; ny * nx];
    for t in 0..nt {
        v.put_values(&zeros, [t..t + 1, 0..ny, 0..nx]).unwrap();
    }
}

async fn get(app: &axum::Router, uri: &str) -> usize {
    let resp = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{uri}");
    axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap()
        .len()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    datagate::fixtures::large_nc4(&dir.path().join("large.nc"), 4).unwrap();
    classic(&dir.path().join("classic.nc"), 4);
    let app = router(AppState::new(Config::for_roots(&[dir
        .path()
        .to_path_buf()])));
    rt.block_on(get(&app, "/zarr/large.nc/.zmetadata"));
    rt.block_on(get(&app, "/zarr/classic.nc/.zmetadata"));

    let mut g = c.benchmark_group("zarr_chunk");
    // One stored chunk: 1×180×360 f32 (259 200 bytes of values).
    g.throughput(Throughput::Bytes(180 * 360 * 4));
    g.bench_function("passthrough_1x180x360_f32", |b| {
        let mut k = 0;
        b.iter(|| {
            k += 1;
            let uri = format!("/zarr/large.nc/temp/{}.{}.{}", k % 4, k % 4, k % 4);
            rt.block_on(get(&app, &uri))
        })
    });
    // One decoded chunk: 1×720×1440 f32 read through netCDF-C, zlib level 1.
    g.throughput(Throughput::Bytes(720 * 1440 * 4));
    g.sample_size(20);
    g.bench_function("decoded_1x720x1440_f32", |b| {
        let mut k = 0;
        b.iter(|| {
            k += 1;
            rt.block_on(get(&app, &format!("/zarr/classic.nc/temp/{}.0.0", k % 4)))
        })
    });
    g.finish();

    let big = tempfile::tempdir().unwrap();
    ten_gb_class(&big.path().join("big.nc"));
    let mut g = c.benchmark_group("zarr_open");
    g.sample_size(10);
    g.bench_function("cold_zmetadata_10GB_10000_chunks", |b| {
        b.iter_batched(
            || {
                router(AppState::new(Config::for_roots(&[big
                    .path()
                    .to_path_buf()])))
            },
            |app| rt.block_on(get(&app, "/zarr/big.nc/.zmetadata")),
            criterion::BatchSize::PerIteration,
        )
    });
    // The first chunk of a variable reads its whole chunk index (10,000 chunks).
    g.bench_function("cold_first_chunk_10GB_10000_chunks", |b| {
        b.iter_batched(
            || {
                let app = router(AppState::new(Config::for_roots(&[big
                    .path()
                    .to_path_buf()])));
                rt.block_on(get(&app, "/zarr/big.nc/.zmetadata"));
                app
            },
            |app| rt.block_on(get(&app, "/zarr/big.nc/temp/7.1.1")),
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
