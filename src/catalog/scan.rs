//! Finding dataset files: directory walks and globs, recognising formats by the format
//! table's content tests (cheap, no C library), so thousands of files are listed in
//! milliseconds.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::readers::formats;

/// A file found by a scan, with its id relative to the scanned root.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundFile {
    pub relative_id: String,
    pub path: PathBuf,
}

/// True if the file starts like a format some reader reads.
pub fn is_dataset_file(path: &Path) -> bool {
    formats::detect_local(path).is_some()
}

/// True if the path is a dataset: a file some reader reads, or a directory of a
/// directory format (a Zarr store).
pub fn is_dataset(path: &Path) -> bool {
    if path.is_dir() {
        formats::detect_local_dir(path).is_some()
    } else {
        is_dataset_file(path)
    }
}

fn relative_id(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    let id = parts?.join("/");
    crate::config::valid_id(&id).then_some(id)
}

/// Every dataset under `root`: files, and directories of a directory format (a Zarr
/// store is one dataset: the scan does not look inside it). Symbolic links are not
/// followed, so nothing outside the root is reached. Hidden files and directories are
/// skipped.
pub fn scan_dir(root: &Path) -> Vec<FoundFile> {
    let mut out = Vec::new();
    // A store given as the root itself (`datagate serve ocean.zarr`): one dataset
    // named like the directory.
    if formats::detect_local_dir(root).is_some() {
        let name = root
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if crate::config::valid_id(name) {
            out.push(FoundFile {
                relative_id: name.to_string(),
                path: root.to_path_buf(),
            });
        }
        return out;
    }
    let mut walker = WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("scan {}: {e}", root.display());
                continue;
            }
        };
        let is_store = entry.depth() > 0
            && entry.file_type().is_dir()
            && formats::detect_local_dir(entry.path()).is_some();
        if is_store {
            walker.skip_current_dir();
        } else if !entry.file_type().is_file() {
            continue;
        } else if !is_dataset_file(entry.path()) {
            tracing::debug!("skipping {}: not a known format", entry.path().display());
            continue;
        }
        if let Some(relative_id) = relative_id(root, entry.path()) {
            out.push(FoundFile {
                relative_id,
                path: entry.path().to_path_buf(),
            });
        }
    }
    out
}

/// Every dataset file matching `pattern`; ids are relative to the pattern's leading
/// directory (the part before the first wildcard).
pub fn scan_glob(pattern: &str) -> Result<Vec<FoundFile>, String> {
    let fixed: PathBuf = Path::new(pattern)
        .components()
        .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
        .collect();
    let paths = glob::glob(pattern).map_err(|e| format!("bad glob {pattern:?}: {e}"))?;
    let mut out = Vec::new();
    for p in paths.flatten() {
        if is_dataset(&p)
            && let Some(relative_id) = relative_id(&fixed, &p)
        {
            out.push(FoundFile {
                relative_id,
                path: p,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_datasets() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        std::fs::create_dir_all(dir.path().join(".hidden")).unwrap();
        crate::fixtures::types_cdf5(&dir.path().join("sub/a.nc")).unwrap();
        crate::fixtures::types_cdf5(&dir.path().join(".hidden/b.nc")).unwrap();
        std::fs::write(dir.path().join("readme.txt"), "not data").unwrap();
        std::fs::write(dir.path().join("short.nc"), "CD").unwrap();
        let found = scan_dir(dir.path());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].relative_id, "sub/a.nc");
        let pattern = format!("{}/sub/*.nc", dir.path().display());
        let globbed = scan_glob(&pattern).unwrap();
        assert_eq!(globbed[0].relative_id, "a.nc");
    }

    #[test]
    fn a_zarr_store_is_one_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("stores/ocean.zarr");
        std::fs::create_dir_all(store.join("temp")).unwrap();
        std::fs::write(store.join(".zgroup"), "{\"zarr_format\": 2}").unwrap();
        std::fs::write(store.join("temp/.zarray"), "{}").unwrap();
        // A file inside the store that would otherwise be a dataset of its own.
        crate::fixtures::types_cdf5(&store.join("temp/inner.nc")).unwrap();
        std::fs::create_dir_all(dir.path().join("plain")).unwrap();
        let found = scan_dir(dir.path());
        let ids: Vec<_> = found.iter().map(|f| f.relative_id.as_str()).collect();
        assert_eq!(ids, ["stores/ocean.zarr"]);
        assert!(is_dataset(&store));
        assert!(!is_dataset(&dir.path().join("plain")));
        let alone = scan_dir(&store);
        assert_eq!(alone[0].relative_id, "ocean.zarr");
        assert_eq!(alone.len(), 1);
        let pattern = format!("{}/stores/*.zarr", dir.path().display());
        assert_eq!(scan_glob(&pattern).unwrap()[0].relative_id, "ocean.zarr");
    }
}
