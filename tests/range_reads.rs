//! Remote files read by byte ranges (`RangeReader`), and local files through the same
//! reader, against netCDF-C on the same files: identical metadata and values for every
//! fixture, and a subset of a large file costs a few range requests, not a download.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use datagate::metrics::Metrics;
use datagate::model::{Group, Variable};
use datagate::readers::{self, ReadersConfig};
use datagate::storage::{Location, Storage, StorageConfig};
use datagate::subset::{DimSlice, Hyperslab};

/// Serves `dir` over HTTP with range support (tower-http's `ServeDir`) on loopback.
async fn http_server(dir: &Path) -> String {
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn storage(block_bytes: u64) -> Arc<Storage> {
    storage_with(StorageConfig {
        block_bytes,
        ..StorageConfig::default()
    })
}

fn storage_with(config: StorageConfig) -> Arc<Storage> {
    let cache = tempfile::tempdir().unwrap().keep();
    let config = StorageConfig {
        file_cache_dir: Some(cache.display().to_string()),
        ..config
    };
    Arc::new(Storage::new(config, Arc::new(Metrics::new())))
}

fn variables(g: &Group) -> Vec<Variable> {
    let mut out: Vec<Variable> = g.variables.clone();
    for sub in &g.groups {
        out.extend(variables(sub));
    }
    out
}

/// Drops what only netCDF-C reports (the stored chunk shape).
fn without_chunks(g: &Group) -> Group {
    let mut g = g.clone();
    for v in &mut g.variables {
        v.chunks = None;
    }
    g.groups = g.groups.iter().map(without_chunks).collect();
    g
}

/// A few selections of a variable: whole, first element, strided.
fn selections(shape: &[usize]) -> Vec<Hyperslab> {
    let mut out = vec![Hyperslab::full(shape)];
    if shape.iter().all(|&n| n > 0) {
        out.push(Hyperslab::new(
            shape.iter().map(|_| DimSlice::index(0)).collect(),
        ));
        out.push(Hyperslab::new(
            shape
                .iter()
                .map(|&n| DimSlice {
                    start: n / 3,
                    stride: 2,
                    count: (n - n / 3).div_ceil(2),
                })
                .collect(),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_reader_matches_netcdf_c_on_every_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let files = datagate::fixtures::write_all(dir.path()).unwrap();
    let base = http_server(dir.path()).await;
    let remote_storage = storage(4096);
    let local_storage = Arc::new(Storage::default());
    let defaults = ReadersConfig::default();
    // The reference: netCDF-C on the local file.
    let netcdf_c = ReadersConfig {
        local_reads: readers::LocalReads::NetcdfC,
        ..ReadersConfig::default()
    };
    let native = ReadersConfig {
        local_reads: readers::LocalReads::Native,
        ..ReadersConfig::default()
    };
    for file in files {
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        let local = readers::open(&Location::Local(file.clone()), &local_storage, &netcdf_c)
            .await
            .unwrap();
        let loc = Location::parse(&format!("{base}/{name}"), Path::new("/")).unwrap();
        let remote = readers::open(&loc, &remote_storage, &defaults)
            .await
            .unwrap();
        // The same reader on the local file (`readers.local_reads = "native"`).
        let native = readers::open(&Location::Local(file.clone()), &local_storage, &native)
            .await
            .unwrap();
        assert!(native.memory_budget() > 0, "{name}: not the range reader");
        assert_eq!(local.memory_budget(), 0, "{name}: not netCDF-C");
        assert_eq!(remote.format(), local.format(), "{name}");
        // Compared as text: NaN attributes are equal there.
        assert_eq!(
            format!("{:#?}", without_chunks(&remote.metadata().root)),
            format!("{:#?}", without_chunks(&local.metadata().root)),
            "{name}: metadata differs"
        );
        assert_eq!(
            format!("{:#?}", without_chunks(&native.metadata().root)),
            format!("{:#?}", without_chunks(&local.metadata().root)),
            "{name}: metadata differs (local, native)"
        );
        for var in variables(&local.metadata().root) {
            // Where chunks lie (what virtual Zarr serves): as HDF5's C library says.
            assert_eq!(
                remote.chunk_index(&var.path).await.unwrap(),
                local.chunk_index(&var.path).await.unwrap(),
                "{name} {}: chunk index",
                var.path
            );
            assert_eq!(
                remote.chunk_layout(&var.path).await.unwrap(),
                local.chunk_layout(&var.path).await.unwrap(),
                "{name} {}: chunk layout",
                var.path
            );
            for slab in selections(&var.shape()) {
                let want = local.read(&var.path, &slab).await.unwrap();
                for got in [
                    remote.read(&var.path, &slab).await.unwrap(),
                    native.read(&var.path, &slab).await.unwrap(),
                ] {
                    assert_eq!(
                        format!("{got:?}"),
                        format!("{want:?}"),
                        "{name} {} {slab:?}",
                        var.path
                    );
                }
            }
        }
        // Nothing was downloaded whole.
        assert_eq!(downloads(&remote_storage), 0, "{name}");
        // Bad selections are the same typed errors as locally.
        let var = variables(&local.metadata().root).remove(0);
        let bad = Hyperslab::new(vec![DimSlice::index(usize::MAX / 4); var.dims.len()]);
        if !var.dims.is_empty() {
            assert!(matches!(
                remote.read(&var.path, &bad).await,
                Err(readers::ReadError::Subset(_))
            ));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_subset_of_a_large_file_costs_a_few_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.nc");
    datagate::fixtures::large_nc4(&path, 16).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let base = http_server(dir.path()).await;
    let storage = storage(64 << 10);
    let loc = Location::parse(&format!("{base}/large.nc"), Path::new("/")).unwrap();
    let reader = readers::open(&loc, &storage, &ReadersConfig::default())
        .await
        .unwrap();
    let local = readers::open(
        &Location::Local(path.clone()),
        &Arc::new(Storage::default()),
        &ReadersConfig {
            local_reads: readers::LocalReads::NetcdfC,
            ..ReadersConfig::default()
        },
    )
    .await
    .unwrap();
    let var = variables(&reader.metadata().root)
        .into_iter()
        .max_by_key(|v| v.num_elements())
        .unwrap();
    let opened = storage.range_counters().bytes.load(Ordering::Relaxed);
    // One time step, a small window: opening and reading cost a small part of the file.
    let mut dims: Vec<DimSlice> = var.shape().iter().map(|&n| DimSlice::full(n)).collect();
    dims[0] = DimSlice::index(var.shape()[0] / 2);
    for d in dims.iter_mut().skip(1) {
        d.count = d.count.min(8);
    }
    let slab = Hyperslab::new(dims);
    let got = reader.read(&var.path, &slab).await.unwrap();
    assert_eq!(got, local.read(&var.path, &slab).await.unwrap());
    let requests = storage.range_counters().requests.load(Ordering::Relaxed);
    let bytes = storage.range_counters().bytes.load(Ordering::Relaxed);
    assert!(
        bytes < size / 10,
        "read {bytes} of {size} bytes (opening took {opened})"
    );
    assert!(requests < 12, "{requests} range requests");
    // The same read again comes from the caches: no request.
    reader.read(&var.path, &slab).await.unwrap();
    assert_eq!(
        storage.range_counters().requests.load(Ordering::Relaxed),
        requests
    );
    // A whole time step (16 compressed chunks): fetched up front, adjacent chunks
    // coalesced into few requests.
    let step = Hyperslab::new(vec![
        DimSlice::index(1),
        DimSlice::full(var.shape()[1]),
        DimSlice::full(var.shape()[2]),
    ]);
    let index = reader.chunk_index(&var.path).await.unwrap().unwrap();
    assert_eq!(index.chunks.len(), 16 * 4 * 4);
    assert_eq!(Some(index), local.chunk_index(&var.path).await.unwrap());
    let before = storage.range_counters().requests.load(Ordering::Relaxed);
    let got = reader.read(&var.path, &step).await.unwrap();
    assert_eq!(got, local.read(&var.path, &step).await.unwrap());
    let step_requests = storage.range_counters().requests.load(Ordering::Relaxed) - before;
    assert!(
        (1..=8).contains(&step_requests),
        "{step_requests} requests for 16 chunks"
    );
}

/// What a remote read cost in whole-file downloads (file-cache copies).
fn downloads(storage: &Storage) -> u64 {
    storage
        .metrics()
        .store_requests
        .with_label_values(&["whole"])
        .get()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_cache_mode_and_fallback_read_through_netcdf_c() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.nc");
    datagate::fixtures::large_nc4(&path, 2).unwrap();
    let base = http_server(dir.path()).await;
    let loc = Location::parse(&format!("{base}/large.nc"), Path::new("/")).unwrap();
    let local = readers::open(
        &Location::Local(path.clone()),
        &Arc::new(Storage::default()),
        &ReadersConfig {
            local_reads: readers::LocalReads::NetcdfC,
            ..ReadersConfig::default()
        },
    )
    .await
    .unwrap();
    let slab = Hyperslab::new(vec![
        DimSlice::index(1),
        DimSlice::full(200),
        DimSlice::full(400),
    ]);
    let want = local.read("/temp", &slab).await.unwrap();

    // `remote_reads = "file-cache"`: one whole download, then netCDF-C.
    let s = storage_with(StorageConfig::default());
    let file_cache = ReadersConfig {
        remote_reads: readers::RemoteReads::FileCache,
        ..ReadersConfig::default()
    };
    let r = readers::open(&loc, &s, &file_cache).await.unwrap();
    assert_eq!(r.read("/temp", &slab).await.unwrap(), want);
    assert_eq!(downloads(&s), 1);
    assert_eq!(r.memory_budget(), 0, "netCDF-C reader");

    // Chunks (180x360 f32 = 259 KB) above the range reader's decode limit: the read
    // falls back to netCDF-C on a file-cache copy, with the same values.
    let s = storage_with(StorageConfig::default());
    let small_chunks = ReadersConfig {
        max_decoded_chunk_bytes: 64 << 10,
        ..ReadersConfig::default()
    };
    let r = readers::open(&loc, &s, &small_chunks).await.unwrap();
    assert!(r.memory_budget() > 0, "range reader");
    assert_eq!(downloads(&s), 0);
    assert_eq!(r.read("/temp", &slab).await.unwrap(), want);
    assert_eq!(downloads(&s), 1);
    // Coordinates (small, contiguous) and later reads keep working.
    let lat = r.read("/lat", &Hyperslab::full(&[720])).await.unwrap();
    assert_eq!(
        lat,
        local.read("/lat", &Hyperslab::full(&[720])).await.unwrap()
    );
    assert_eq!(r.read("/temp", &slab).await.unwrap(), want);
    assert_eq!(downloads(&s), 1);
}

/// Chunks a read decodes are kept in the storage's shared decoded-chunk cache: reading
/// them again (any reader of the same file version) decodes nothing.
#[tokio::test]
async fn decoded_chunks_are_shared_between_reads() {
    let dir = tempfile::tempdir().unwrap();
    datagate::fixtures::write_all(dir.path()).unwrap();
    let storage = Arc::new(Storage::default());
    let native = ReadersConfig::default();
    let path = dir.path().join("gridded_nc4.nc");
    let events = |event: &str| {
        storage
            .metrics()
            .render()
            .lines()
            .find(|l| l.contains("decoded_chunk") && l.contains(&format!("\"{event}\"")))
            .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let first = readers::open(&Location::Local(path.clone()), &storage, &native)
        .await
        .unwrap();
    let var = first.metadata().variable("temp").unwrap().clone();
    let all = Hyperslab::full(&var.shape());
    let a = first.read("/temp", &all).await.unwrap();
    let misses = events("miss");
    assert!(misses > 0, "the chunks were not decoded by datagate");
    assert_eq!(events("hit"), 0);
    // Another reader of the same file (another protocol's open) hits every chunk.
    let second = readers::open(&Location::Local(path), &storage, &native)
        .await
        .unwrap();
    let b = second.read("/temp", &all).await.unwrap();
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert_eq!(events("miss"), misses);
    assert_eq!(events("hit"), misses);
}
