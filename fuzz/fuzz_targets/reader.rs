//! Damaged archive files (NetCDF-3, NetCDF-4/HDF5, GRIB, GeoTIFF) through the readers
//! the gateway opens them with: format sniffing, the reader's open (header, HDF5
//! metadata, GRIB message index, TIFF IFDs), then for each variable its chunk layout
//! and index and a few small reads (first and last element, the whole of a small
//! variable), and the DAP2 schema built from the metadata.
//! Each input is an object in an in-memory store, read as the gateway reads object
//! storage (block cache, versioned ranges): no file is written and no read leaves the
//! fuzzer's thread, which made the target several times faster than one over files.
//! A broken file must give an error: never a panic, an abort or an unbounded
//! allocation (run with `-rss_limit_mb=2048 -malloc_limit_mb=1024`).
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use datagate::dap2::Schema;
use datagate::metrics::Metrics;
use datagate::readers::{LocalReads, ReadersConfig, formats};
use datagate::storage::{Location, RemoteLocation, Storage, StorageConfig};
use datagate::subset::{DimSlice, Hyperslab};
use libfuzzer_sys::fuzz_target;
use object_store::ObjectStoreExt;
use object_store::memory::InMemory;

/// Variables looked at per file, and elements of a variable read whole.
const MAX_VARIABLES: usize = 16;
const SMALL: usize = 4096;

/// The store the inputs are put in, as `RemoteLocation::store` names it.
const STORE: &str = "memory://fuzz";

/// The storage, and the in-memory store it reads `STORE` from.
fn storage() -> &'static (Arc<Storage>, Arc<InMemory>) {
    static S: OnceLock<(Arc<Storage>, Arc<InMemory>)> = OnceLock::new();
    S.get_or_init(|| {
        let config = StorageConfig {
            file_cache_dir: Some(
                datagate_fuzz::scratch_dir()
                    .join("cache")
                    .display()
                    .to_string(),
            ),
            block_cache_bytes: 16 << 20,
            // Copies for netCDF-C, of what the range reader lacks a feature for.
            file_cache_bytes: 64 << 20,
            ..StorageConfig::default()
        };
        // The shared decoded-chunk cache as small as each reader's (below): what a
        // process holds is then the inputs', not a server-sized cache filling.
        let storage =
            Storage::new(config, Arc::new(Metrics::new())).with_decoded_cache_bytes(4 << 20);
        let memory = Arc::new(InMemory::new());
        storage.insert_store(STORE, memory.clone());
        (Arc::new(storage), memory)
    })
}

async fn exercise(location: &Location) {
    let storage = &storage().0;
    let Ok(version) = storage.head(location).await else {
        return;
    };
    // The pure-Rust reader, as remote objects and (with `readers.local_reads =
    // "native"`) local files are opened.
    let config = ReadersConfig {
        local_reads: LocalReads::Native,
        decoded_chunk_cache_bytes: 4 << 20,
        max_decoded_chunk_bytes: 64 << 20,
        ..ReadersConfig::default()
    };
    let Ok(reader) = datagate::readers::open_at(location, &version, storage, &config).await else {
        return;
    };
    let meta = reader.metadata();
    let _ = Schema::build(&meta);
    for var in meta.variables().into_iter().take(MAX_VARIABLES) {
        let _ = reader.chunk_layout(&var.path).await;
        let _ = reader.chunk_index(&var.path).await;
        let shape = var.shape();
        if shape.contains(&0) {
            continue;
        }
        let first = Hyperslab::new(shape.iter().map(|_| DimSlice::index(0)).collect());
        let last = Hyperslab::new(shape.iter().map(|&n| DimSlice::index(n - 1)).collect());
        let _ = reader.read(&var.path, &first).await;
        let _ = reader.read(&var.path, &last).await;
        if shape
            .iter()
            .try_fold(1usize, |a, &n| a.checked_mul(n))
            .is_some_and(|n| n <= SMALL)
        {
            let _ = reader.read(&var.path, &Hyperslab::full(&shape)).await;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // A new name for each input: nothing cached for one object applies to the next.
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let key = format!("input-{n}.nc");
    let memory = &storage().1;
    let path = object_store::path::Path::from(key.as_str());
    datagate_fuzz::runtime().block_on(async {
        if memory.put(&path, data.to_vec().into()).await.is_err() {
            return;
        }
        let location = Location::Remote(RemoteLocation {
            store: STORE.to_string(),
            key,
        });
        exercise(&location).await;
        let _ = memory.delete(&path).await;
    });
    let _ = formats::detect(data);
});
