//! Damaged files found by the `reader` fuzz target, read as an object in a store (the
//! path of remote files): each must give errors, never a panic, an overflow or an
//! allocation the size of what a header claims.

use std::sync::Arc;

use object_store::ObjectStoreExt;
use object_store::memory::InMemory;

use crate::readers::{LocalReads, ReadersConfig};
use crate::storage::{Location, RemoteLocation, Storage};
use crate::subset::{DimSlice, Hyperslab};

/// Opens `bytes` as the fuzz target does; for every variable, its chunk layout and
/// index (then known to the reader), its first and last element, and the whole of a
/// small one. Errors are expected, panics are failures.
async fn read_everything(bytes: &[u8]) {
    let storage = Arc::new(Storage::default());
    let memory = Arc::new(InMemory::new());
    storage.insert_store("memory://t", memory.clone());
    let path = object_store::path::Path::from("f.nc");
    memory.put(&path, bytes.to_vec().into()).await.unwrap();
    let location = Location::Remote(RemoteLocation {
        store: "memory://t".into(),
        key: "f.nc".into(),
    });
    let version = storage.head(&location).await.unwrap();
    let config = ReadersConfig {
        local_reads: LocalReads::Native,
        ..ReadersConfig::default()
    };
    let Ok(reader) = crate::readers::open_at(&location, &version, &storage, &config).await else {
        return;
    };
    for var in reader.metadata().variables() {
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
        if shape.iter().product::<usize>() <= 4096 {
            let _ = reader.read(&var.path, &Hyperslab::full(&shape)).await;
        }
    }
}

/// A damaged HDF5 chunk index with chunks at offsets near 2^64: the prefetch of a
/// read's chunks added offset and size, and merged ranges with a gap, overflowing.
#[tokio::test]
async fn chunks_past_the_end_of_an_object_are_not_prefetched() {
    read_everything(include_bytes!("regressions/hdf5_chunks_past_2_64.h5")).await;
}

/// Damaged CDF-5 headers giving a `char` variable 2^56 elements: its bytes were
/// allocated whole before the first read (an abort).
#[tokio::test]
async fn a_char_variable_larger_than_its_file_is_refused() {
    read_everything(include_bytes!(
        "regressions/cdf5_char_variable_larger_than_file.nc"
    ))
    .await;
    read_everything(include_bytes!(
        "regressions/cdf5_char_variable_larger_than_file_2.nc"
    ))
    .await;
}

/// A damaged 64-bit-offset header whose `char` variable's record lies near 2^64: its
/// end overflowed.
#[tokio::test]
async fn a_record_past_2_64_is_an_error() {
    read_everything(include_bytes!("regressions/cdf2_char_record_past_2_64.nc")).await;
}
