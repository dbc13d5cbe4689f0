//! WMS hot path: drawing a 256×256 tile from a decoded 2-D slice already in memory
//! (render, then PNG encoding), on a 0.25° global grid and on a curvilinear grid; and
//! end to end, a mix of XYZ tiles at zoom 0–6 from the real server, cold and warm.
//!
//! `cargo bench --bench wms`

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use datagate::subset::CoordAxis;
use datagate::subset::{CurvilinearGrid, HorizontalGrid, RectilinearGrid};
use datagate::wms::crs::{Crs, tile_bbox};
use datagate::wms::encode::{ImageFormat, encode};
use datagate::wms::render::{Field, MapView, render};
use datagate::wms::style::{ColorScale, OutOfRange};

fn global_grid() -> (HorizontalGrid, Vec<f32>) {
    let (ny, nx) = (720usize, 1440usize);
    let lat = CoordAxis::new((0..ny).map(|j| 89.875 - 0.25 * j as f64).collect()).unwrap();
    let lon = CoordAxis::new((0..nx).map(|i| 0.125 + 0.25 * i as f64).collect()).unwrap();
    let values = (0..ny * nx)
        .map(|p| 280.0 + ((p / nx) as f32 * 0.01).sin() * 10.0 + (p % nx) as f32 * 1e-3)
        .collect();
    (
        HorizontalGrid::Rectilinear(RectilinearGrid::new(lon, lat)),
        values,
    )
}

fn curvi_grid() -> (HorizontalGrid, Vec<f32>) {
    let (ny, nx) = (300usize, 400usize);
    let (s, c) = 30f64.to_radians().sin_cos();
    let (mut lon, mut lat) = (Vec::new(), Vec::new());
    for j in 0..ny {
        for i in 0..nx {
            let (x, y) = ((i as f64 - 200.0) * 0.05, (j as f64 - 150.0) * 0.05);
            lon.push(10.0 + x * c - y * s);
            lat.push(50.0 + x * s + y * c);
        }
    }
    let values = (0..ny * nx).map(|k| k as f32).collect();
    (
        HorizontalGrid::Curvilinear(CurvilinearGrid::new(ny, nx, &lon, &lat).unwrap()),
        values,
    )
}

fn tile_view(z: u32, x: u32, y: u32) -> MapView {
    MapView {
        crs: Crs::parse("EPSG:3857").unwrap(),
        bbox: tile_bbox(z, x, y).unwrap(),
        width: 256,
        height: 256,
    }
}

fn bench_render(c: &mut Criterion) {
    let scale = ColorScale::new(
        "viridis",
        270.0,
        295.0,
        false,
        250,
        OutOfRange::Extend,
        OutOfRange::Extend,
    );
    let (grid, values) = global_grid();
    let field = Field {
        grid: &grid,
        values: &values,
        row_stride: 1440,
        col_stride: 1,
    };
    let mut g = c.benchmark_group("wms_tile_256");
    for (name, view) in [
        ("z0_3857", tile_view(0, 0, 0)),
        ("z4_3857", tile_view(4, 9, 5)),
    ] {
        g.bench_function(format!("render_{name}"), |b| {
            let mut rgba = vec![0u8; 256 * 256 * 4];
            b.iter(|| render(field, &scale, &view, &mut rgba))
        });
        g.bench_function(format!("render_png_{name}"), |b| {
            b.iter(|| {
                let mut rgba = vec![0u8; 256 * 256 * 4];
                render(field, &scale, &view, &mut rgba);
                encode(&rgba, 256, 256, ImageFormat::Png, [255; 4]).unwrap()
            })
        });
    }
    let polar = MapView {
        crs: Crs::parse("EPSG:3413").unwrap(),
        bbox: [-4e6, -4e6, 4e6, 4e6],
        width: 256,
        height: 256,
    };
    g.bench_function("render_epsg3413_per_pixel", |b| {
        let mut rgba = vec![0u8; 256 * 256 * 4];
        b.iter(|| render(field, &scale, &polar, &mut rgba))
    });
    // A whole 4096² polar map: most pixels through the lattice's blends.
    let big_polar = MapView {
        crs: Crs::parse("EPSG:3413").unwrap(),
        bbox: [-4e6, -4e6, 4e6, 4e6],
        width: 4096,
        height: 4096,
    };
    g.sample_size(10);
    g.bench_function("render_epsg3413_4096px_lattice", |b| {
        let mut rgba = vec![0u8; 4096 * 4096 * 4];
        b.iter(|| render(field, &scale, &big_polar, &mut rgba))
    });
    let (cgrid, cvalues) = curvi_grid();
    let cfield = Field {
        grid: &cgrid,
        values: &cvalues,
        row_stride: 400,
        col_stride: 1,
    };
    let cscale = ColorScale::new(
        "viridis",
        0.0,
        120_000.0,
        false,
        250,
        OutOfRange::Extend,
        OutOfRange::Extend,
    );
    let cview = MapView {
        crs: Crs::parse("CRS:84").unwrap(),
        bbox: [0.0, 40.0, 20.0, 60.0],
        width: 256,
        height: 256,
    };
    g.bench_function("render_curvilinear_120k_cells", |b| {
        let mut rgba = vec![0u8; 256 * 256 * 4];
        b.iter(|| render(cfield, &cscale, &cview, &mut rgba))
    });
    g.finish();
}

/// Tiles z/x/y at zoom 0–6 over the globe (a fixed spread, 4 per level above 1).
fn tile_mix() -> Vec<(u32, u32, u32)> {
    let mut out = vec![(0, 0, 0)];
    for z in 1..=6u32 {
        let n = 1u32 << z;
        for k in 0..4u32 {
            out.push((z, (k * 7 + z) % n, (n / 2 + k) % n));
        }
    }
    out
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// End to end over HTTP: every tile of the mix once with empty caches (cold), then
/// again (warm: rendered tiles cached), then with a new colour range each time
/// (decoded slice cached, tile rendered anew).
fn server_tiles() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        datagate::fixtures::large_nc4(&dir.path().join("large.nc"), 2).unwrap();
        let state = datagate::server::AppState::new(datagate::config::Config::for_roots(&[dir
            .path()
            .to_path_buf()]));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, datagate::server::router(state)).await.unwrap();
        });
        let client = reqwest::Client::new();
        let mix = tile_mix();
        let run = |label: &'static str, extra: fn(usize) -> String| {
            let client = client.clone();
            let mix = mix.clone();
            async move {
                let mut times = Vec::new();
                let start = Instant::now();
                for (k, (z, x, y)) in mix.iter().enumerate() {
                    let url = format!("http://{addr}/wms/tiles/large.nc/temp/{z}/{x}/{y}.png?{}", extra(k));
                    let t = Instant::now();
                    let r = client.get(&url).send().await.unwrap();
                    assert_eq!(r.status(), 200);
                    r.bytes().await.unwrap();
                    times.push(t.elapsed());
                }
                let total = start.elapsed();
                times.sort();
                println!(
                    "wms tiles {label:>28}: {:>3} tiles, {:>7.1} tiles/s, p50 {:>7.2} ms, p99 {:>7.2} ms",
                    times.len(),
                    times.len() as f64 / total.as_secs_f64(),
                    percentile(&times, 0.5).as_secs_f64() * 1e3,
                    percentile(&times, 0.99).as_secs_f64() * 1e3
                );
            }
        };
        run("cold (nothing cached)", |_| String::new()).await;
        run("warm (tiles cached)", |_| String::new()).await;
        run("slice cached, tile rendered", |k| format!("colorscalerange=270,{}", 300 + k)).await;
    });
}

criterion_group!(benches, bench_render);

fn main() {
    benches();
    server_tiles();
    Criterion::default().configure_from_args().final_summary();
}
