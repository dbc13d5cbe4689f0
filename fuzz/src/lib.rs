//! What the fuzz targets share: one tokio runtime, and the metadata of the project's
//! fixtures (written once per process with `datagate::fixtures`, read with netCDF-C).

use std::path::PathBuf;
use std::sync::OnceLock;

use datagate::model::DatasetMeta;
use datagate::readers::ReadersConfig;
use datagate::storage::{Location, Storage, StorageConfig};

/// A small runtime for the async parts (readers, storage): single-threaded, so an
/// input's work runs on the fuzzer's own thread and only the readers' blocking reads
/// hop to another (each hop is a futex wake-up, a large part of `reader`'s time).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

/// A directory that lives as long as the process.
pub fn scratch_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("datagate-fuzz-")
            .tempdir()
            .expect("temporary directory")
            .keep()
    })
}

/// The metadata of every fixture file: real datasets to resolve constraints against.
pub fn fixture_metas() -> &'static [DatasetMeta] {
    static METAS: OnceLock<Vec<DatasetMeta>> = OnceLock::new();
    METAS.get_or_init(|| {
        let dir = scratch_dir().join("fixtures");
        let paths = datagate::fixtures::write_all(&dir).expect("writing the fixtures");
        let storage = std::sync::Arc::new(Storage::new(
            StorageConfig::default(),
            std::sync::Arc::new(datagate::metrics::Metrics::new()),
        ));
        runtime().block_on(async {
            let mut out = Vec::new();
            for path in paths {
                let reader = datagate::readers::open(
                    &Location::Local(path),
                    &storage,
                    &ReadersConfig::default(),
                )
                .await
                .expect("opening a fixture");
                out.push((*reader.metadata()).clone());
            }
            out
        })
    })
}
