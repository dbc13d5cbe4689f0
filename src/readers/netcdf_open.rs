//! Opening a file with netCDF-C without keeping what a failed open leaves behind.
//!
//! When `nc_open` fails on a damaged HDF5 file ("NetCDF: HDF error"), netCDF-C (4.9)
//! returns the error with the HDF5 file still open, and nothing ever closes it: its
//! metadata cache, about half a megabyte, stays for the life of the process. Fuzzing
//! found it as a process that grew with every such file (docs/fuzzing.md); a server
//! asked again and again for a damaged file in its archive would grow the same way.
//! So a failed open closes every HDF5 file that appeared during the call. Callers hold
//! the library lock (`with_netcdf`), so no other user opened them meanwhile.

use std::os::raw::c_uint;
use std::path::Path;

use hdf5_metno_sys::h5f::{
    H5F_OBJ_ALL, H5F_OBJ_ATTR, H5F_OBJ_DATASET, H5F_OBJ_DATATYPE, H5F_OBJ_FILE, H5F_OBJ_GROUP,
    H5F_OBJ_LOCAL, H5Fclose, H5Fget_obj_count, H5Fget_obj_ids,
};
use hdf5_metno_sys::h5i::{H5Iis_valid, hid_t};

/// Opens `path` with netCDF-C; when that fails, closes the HDF5 files it left open.
pub(super) fn open(path: &Path) -> Result<netcdf::File, netcdf::Error> {
    let before = OpenFiles::now();
    let opened = netcdf::open(path);
    if opened.is_err() {
        before.close_newer();
    }
    opened
}

/// The HDF5 files open in the process at one moment.
pub(super) struct OpenFiles(Vec<hid_t>);

impl OpenFiles {
    pub(super) fn now() -> OpenFiles {
        OpenFiles(ids(H5F_OBJ_ALL as hid_t, H5F_OBJ_FILE))
    }

    /// Closes every HDF5 file open now that was not open then, with what is open in it.
    pub(super) fn close_newer(&self) {
        for file in OpenFiles::now().0 {
            if self.0.contains(&file) {
                continue;
            }
            let objects = H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_LOCAL;
            // SAFETY: ids HDF5 just listed as open; each is closed once.
            unsafe {
                for attr in ids(file, H5F_OBJ_ATTR | H5F_OBJ_LOCAL) {
                    hdf5_metno_sys::h5a::H5Aclose(attr);
                }
                for object in ids(file, objects) {
                    hdf5_metno_sys::h5o::H5Oclose(object);
                }
                // An id may hold more than one reference; a few closes at most.
                for _ in 0..4 {
                    if H5Iis_valid(file) <= 0 || H5Fclose(file) < 0 {
                        break;
                    }
                }
            }
        }
    }
}

/// The ids of open objects of `types` in `scope` (a file, or `H5F_OBJ_ALL`).
fn ids(scope: hid_t, types: c_uint) -> Vec<hid_t> {
    // SAFETY: a count of ids, no pointers.
    let count = unsafe { H5Fget_obj_count(scope, types) };
    let Ok(count) = usize::try_from(count) else {
        return Vec::new();
    };
    let mut out: Vec<hid_t> = vec![0; count];
    // SAFETY: `out` holds `count` ids, the most HDF5 is allowed to write.
    let listed = unsafe { H5Fget_obj_ids(scope, types, count, out.as_mut_ptr()) };
    out.truncate(usize::try_from(listed).unwrap_or(0).min(count));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failed_open_leaves_no_hdf5_file_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("damaged.h5");
        // A fuzzed NetCDF-4 file on which `nc_open` fails with "NetCDF: HDF error".
        std::fs::write(
            &path,
            include_bytes!("regressions/hdf5_failed_open_left_open.h5"),
        )
        .unwrap();
        let (before, after) = super::super::netcdf::with_netcdf(move || {
            let before = OpenFiles::now().0.len();
            for _ in 0..3 {
                assert!(open(&path).is_err());
            }
            (before, OpenFiles::now().0.len())
        })
        .await
        .unwrap();
        assert_eq!(after, before, "HDF5 files left open by failed opens");
    }
}
