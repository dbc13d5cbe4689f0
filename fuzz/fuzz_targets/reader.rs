//! Damaged NetCDF-3 and NetCDF-4/HDF5 files through the pure-Rust path, as the
//! gateway opens a local file with `storage.local_reads = "native"`: format sniffing,
//! `RangeReader::open` (header / HDF5 metadata), then for each variable its chunk
//! layout and index and a few small reads (first and last element, the whole of a
//! small variable), and the DAP2 schema built from the metadata.
//! A broken file must give an error: never a panic, an abort or an unbounded
//! allocation (run with `-rss_limit_mb=2048 -malloc_limit_mb=1024`).
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use datagate::dap2::Schema;
use datagate::metrics::Metrics;
use datagate::readers::{LocalReads, ReadersConfig, formats};
use datagate::storage::{Location, Storage, StorageConfig};
use datagate::subset::{DimSlice, Hyperslab};
use libfuzzer_sys::fuzz_target;

/// Variables looked at per file, and elements of a variable read whole.
const MAX_VARIABLES: usize = 16;
const SMALL: usize = 4096;

fn storage() -> &'static Arc<Storage> {
    static S: OnceLock<Arc<Storage>> = OnceLock::new();
    S.get_or_init(|| {
        let config = StorageConfig {
            file_cache_dir: Some(
                datagate_fuzz::scratch_dir()
                    .join("cache")
                    .display()
                    .to_string(),
            ),
            ..StorageConfig::default()
        };
        Arc::new(Storage::new(config, Arc::new(Metrics::new())))
    })
}

async fn exercise(location: &Location) {
    let storage = storage();
    let Ok(version) = storage.head(location).await else {
        return;
    };
    // The pure-Rust reader, as `readers.local_reads = "native"` opens local files
    // (netCDF-C only for what it cannot read).
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
    // A new name for each input: nothing cached for one file applies to the next.
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let path = datagate_fuzz::scratch_dir().join(format!("input-{n}.nc"));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let location = Location::Local(path.clone());
    datagate_fuzz::runtime().block_on(exercise(&location));
    let _ = std::fs::remove_file(&path);
    let _ = formats::detect(data);
});
