//! The chunk index of an HDF5 dataset (a NetCDF-4 variable) through HDF5's C API: the
//! filter pipeline, and the address, stored size and filter mask of every chunk.
//!
//! Callers must run this inside `with_netcdf` (HDF5 is not thread-safe). Chunks are
//! looked up by grid coordinate (`H5Dget_chunk_info_by_coord`, one B-tree descent each)
//! rather than by rank (`H5Dget_chunk_info`, which walks the index from the start on
//! every call: quadratic in the number of chunks).

use std::ffi::CString;
use std::path::Path;

use hdf5_metno_sys::h5::{HADDR_UNDEF, haddr_t, hsize_t};
use hdf5_metno_sys::h5d::{self, H5D_layout_t};
use hdf5_metno_sys::h5f;
use hdf5_metno_sys::h5i::hid_t;
use hdf5_metno_sys::h5p;
use hdf5_metno_sys::h5t::{self, H5T_class_t, H5T_order_t};
use hdf5_metno_sys::h5z;

use crate::model::{ChunkEntry, ChunkIndex, Filter};

/// Closes an HDF5 identifier when dropped.
struct Handle(hid_t, unsafe extern "C" fn(hid_t) -> i32);

impl Handle {
    fn new(
        id: hid_t,
        close: unsafe extern "C" fn(hid_t) -> i32,
        what: &str,
    ) -> Result<Handle, String> {
        if id < 0 {
            Err(format!("HDF5 could not open {what}"))
        } else {
            Ok(Handle(id, close))
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the id was returned open by HDF5 and is closed once.
        unsafe { (self.1)(self.0) };
    }
}

/// The chunk index of the variable at `var_path` (`/g/v`) of shape `shape` in the
/// HDF5 file at `file`; with `with_chunks` false, only its chunk shape, filters and
/// byte order. `Ok(None)` when the layout cannot be described by byte ranges (compact,
/// virtual, variable-length types).
pub fn chunk_index(
    file: &Path,
    var_path: &str,
    shape: &[usize],
    with_chunks: bool,
) -> Result<Option<ChunkIndex>, String> {
    let _lock = netcdf_sys::libnetcdf_lock.lock();
    let cpath = CString::new(file.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: plain HDF5 calls on identifiers this function owns; serialised by the
    // caller (`with_netcdf`) and the library lock.
    unsafe {
        let f = Handle::new(
            h5f::H5Fopen(cpath.as_ptr(), h5f::H5F_ACC_RDONLY, h5p::H5P_DEFAULT),
            h5f::H5Fclose,
            "the file",
        )?;
        let d = open_dataset(f.0, var_path)?;
        let ty = Handle::new(h5d::H5Dget_type(d.0), h5t::H5Tclose, "the type")?;
        let class = h5t::H5Tget_class(ty.0);
        let variable_length = class == H5T_class_t::H5T_VLEN
            || (class == H5T_class_t::H5T_STRING && h5t::H5Tis_variable_str(ty.0) > 0);
        if variable_length
            || !matches!(
                class,
                H5T_class_t::H5T_INTEGER | H5T_class_t::H5T_FLOAT | H5T_class_t::H5T_STRING
            )
        {
            return Ok(None);
        }
        let little_endian = h5t::H5Tget_order(ty.0) != H5T_order_t::H5T_ORDER_BE;
        let dcpl = Handle::new(
            h5d::H5Dget_create_plist(d.0),
            h5p::H5Pclose,
            "the creation properties",
        )?;
        match h5p::H5Pget_layout(dcpl.0) {
            H5D_layout_t::H5D_CONTIGUOUS => {
                let addr = h5d::H5Dget_offset(d.0);
                let size = h5d::H5Dget_storage_size(d.0);
                let stored = (addr != HADDR_UNDEF && with_chunks).then_some((addr, size));
                Ok(Some(ChunkIndex::contiguous(shape, little_endian, stored)))
            }
            H5D_layout_t::H5D_CHUNKED => {
                let rank = shape.len();
                let mut dims = vec![0 as hsize_t; rank.max(1)];
                if h5p::H5Pget_chunk(dcpl.0, rank as i32, dims.as_mut_ptr()) != rank as i32 {
                    return Err("cannot read the chunk shape".into());
                }
                let chunk_shape: Vec<usize> = dims[..rank].iter().map(|&c| c as usize).collect();
                let filters = filter_pipeline(dcpl.0)?;
                let chunks = if with_chunks {
                    stored_chunks(d.0, shape, &chunk_shape)
                } else {
                    Vec::new()
                };
                Ok(Some(ChunkIndex {
                    chunk_shape,
                    filters,
                    little_endian,
                    chunks,
                    records: false,
                }))
            }
            _ => Ok(None),
        }
    }
}

/// Opens a dataset, trying the name netCDF-C gives a variable that shares its name with
/// a dimension it does not use (`_nc4_non_coord_` prefix).
unsafe fn open_dataset(file: hid_t, var_path: &str) -> Result<Handle, String> {
    let (group, name) = var_path.rsplit_once('/').unwrap_or(("", var_path));
    for candidate in [
        var_path.to_string(),
        format!("{group}/_nc4_non_coord_{name}"),
    ] {
        let c = CString::new(candidate).map_err(|e| e.to_string())?;
        // SAFETY: file is an open file id; c is NUL-terminated.
        let id = unsafe { h5d::H5Dopen2(file, c.as_ptr(), h5p::H5P_DEFAULT) };
        if id >= 0 {
            return Ok(Handle(id, h5d::H5Dclose));
        }
    }
    Err(format!("no HDF5 dataset for {var_path}"))
}

unsafe fn filter_pipeline(dcpl: hid_t) -> Result<Vec<Filter>, String> {
    // SAFETY: dcpl is an open dataset creation property list.
    let n = unsafe { h5p::H5Pget_nfilters(dcpl) };
    if n < 0 {
        return Err("cannot read the filter pipeline".into());
    }
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n as u32 {
        let mut flags = 0u32;
        let mut nelmts: usize = 16;
        let mut values = [0u32; 16];
        let mut config = 0u32;
        // SAFETY: buffers sized as declared; the name is not requested.
        let id = unsafe {
            h5p::H5Pget_filter2(
                dcpl,
                i,
                &mut flags,
                &mut nelmts,
                values.as_mut_ptr(),
                0,
                std::ptr::null_mut(),
                &mut config,
            )
        };
        let params = values[..nelmts.min(16)].to_vec();
        out.push(match id {
            h5z::H5Z_FILTER_DEFLATE => Filter::Deflate {
                level: params.first().copied().unwrap_or(6),
            },
            h5z::H5Z_FILTER_SHUFFLE => Filter::Shuffle {
                element_size: params.first().copied().unwrap_or(1) as usize,
            },
            h5z::H5Z_FILTER_FLETCHER32 => Filter::Fletcher32,
            id if id < 0 => return Err(format!("cannot read filter {i}")),
            id => Filter::Other {
                id: id as u32,
                params,
            },
        });
    }
    Ok(out)
}

/// Every allocated chunk, in row-major order of the chunk grid.
unsafe fn stored_chunks(dset: hid_t, shape: &[usize], chunk_shape: &[usize]) -> Vec<ChunkEntry> {
    let grid: Vec<u64> = shape
        .iter()
        .zip(chunk_shape)
        .map(|(&n, &c)| n.div_ceil(c.max(1)) as u64)
        .collect();
    let total: u64 = grid.iter().product();
    let mut out = Vec::new();
    let mut coords = vec![0u64; shape.len()];
    for _ in 0..total {
        let offset: Vec<hsize_t> = coords
            .iter()
            .zip(chunk_shape)
            .map(|(&i, &c)| i * c as u64)
            .collect();
        let (mut mask, mut addr, mut size) = (0u32, HADDR_UNDEF as haddr_t, 0 as hsize_t);
        // SAFETY: offset has one entry per dimension; outputs are plain integers.
        let status = unsafe {
            h5d::H5Dget_chunk_info_by_coord(dset, offset.as_ptr(), &mut mask, &mut addr, &mut size)
        };
        if status >= 0 && addr != HADDR_UNDEF && size > 0 {
            out.push(ChunkEntry {
                coords: coords.clone(),
                offset: addr,
                size,
                filter_mask: mask,
                key: None,
            });
        }
        // Next grid position, last dimension fastest.
        for d in (0..coords.len()).rev() {
            coords[d] += 1;
            if coords[d] < grid[d] {
                break;
            }
            coords[d] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    /// These tests are of HDF5's C API: through netCDF-C's reader, not the default.
    fn netcdf_c() -> crate::readers::ReadersConfig {
        crate::readers::ReadersConfig {
            local_reads: crate::readers::LocalReads::NetcdfC,
            ..Default::default()
        }
    }

    use std::io::Read;

    use crate::model::ArrayValues;
    use crate::model::Filter;
    use crate::readers::open;
    use crate::storage::{Location, Storage};
    use crate::subset::{DimSlice, Hyperslab};

    fn inflate(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(b)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn unshuffle(b: &[u8], size: usize) -> Vec<u8> {
        let n = b.len() / size;
        let mut out = vec![0; b.len()];
        for i in 0..n {
            for k in 0..size {
                out[i * size + k] = b[k * n + i];
            }
        }
        out
    }

    #[tokio::test]
    async fn chunked_contiguous_and_sparse_match_netcdf_c() {
        let dir = tempfile::tempdir().unwrap();
        crate::fixtures::write_all(dir.path()).unwrap();
        let loc = Location::Local(dir.path().join("gridded_nc4.nc"));
        let r = open(&loc, &std::sync::Arc::new(Storage::default()), &netcdf_c())
            .await
            .unwrap();
        let bytes = std::fs::read(dir.path().join("gridded_nc4.nc")).unwrap();

        let idx = r.chunk_index("/temp").await.unwrap().unwrap();
        assert_eq!(idx.chunk_shape, vec![1, 1, 10, 18]);
        assert_eq!(
            idx.filters,
            vec![
                Filter::Shuffle { element_size: 4 },
                Filter::Deflate { level: 4 }
            ]
        );
        assert!(idx.little_endian);
        assert_eq!(idx.chunks.len(), 4 * 3 * 2 * 2);
        let c = idx
            .chunks
            .iter()
            .find(|c| c.coords == vec![2, 1, 1, 0])
            .unwrap();
        assert_eq!(c.filter_mask, 0);
        let stored = &bytes[c.offset as usize..(c.offset + c.size) as usize];
        let raw = unshuffle(&inflate(stored), 4);
        let slab = Hyperslab::new(vec![
            DimSlice::index(2),
            DimSlice::index(1),
            DimSlice {
                start: 10,
                stride: 1,
                count: 10,
            },
            DimSlice {
                start: 0,
                stride: 1,
                count: 18,
            },
        ]);
        let want = r.read("/temp", &slab).await.unwrap();
        assert_eq!(
            ArrayValues::from_ne_bytes(want.dtype(), &raw).unwrap(),
            want.values
        );

        // The layout alone: the same shape and filters, no chunk visited.
        let layout = r.chunk_layout("/temp").await.unwrap().unwrap();
        assert_eq!(layout.chunk_shape, idx.chunk_shape);
        assert_eq!(layout.filters, idx.filters);
        assert!(layout.chunks.is_empty());

        // Only the chunk that was written exists.
        let layout = r.chunk_layout("/sparse").await.unwrap().unwrap();
        assert_eq!((layout.chunk_shape, layout.chunks.len()), (vec![10, 12], 0));
        let sparse = r.chunk_index("/sparse").await.unwrap().unwrap();
        assert_eq!(sparse.filters, vec![Filter::Deflate { level: 1 }]);
        assert_eq!(sparse.chunks.len(), 1);
        assert_eq!(sparse.chunks[0].coords, vec![0, 0]);
        let s = &sparse.chunks[0];
        let raw = inflate(&bytes[s.offset as usize..(s.offset + s.size) as usize]);
        let want: Vec<u8> = (0..120i32).flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(raw, want);

        // Contiguous: one range holding the values as they are.
        let mask = r.chunk_index("/mask").await.unwrap().unwrap();
        assert_eq!(mask.chunk_shape, vec![20, 36]);
        assert!(mask.filters.is_empty());
        let m = &mask.chunks[0];
        assert_eq!(m.size, 720);
        let want = r.read("/mask", &Hyperslab::full(&[20, 36])).await.unwrap();
        assert_eq!(
            ArrayValues::U8(bytes[m.offset as usize..(m.offset + m.size) as usize].to_vec()),
            want.values
        );

        let r = open(
            &Location::Local(dir.path().join("types_nc4.nc")),
            &std::sync::Arc::new(Storage::default()),
            &netcdf_c(),
        )
        .await
        .unwrap();
        assert_eq!(r.chunk_index("/v_string").await.unwrap(), None);
        let scalar = r.chunk_index("/scalar_f64").await.unwrap().unwrap();
        assert_eq!(scalar.chunks.len(), 1);
        assert_eq!(scalar.chunks[0].size, 8);
        assert!(
            r.chunk_index("/forecast/deep/salinity")
                .await
                .unwrap()
                .is_some()
        );
        assert!(r.chunk_index("/nope").await.is_err());
    }

    #[tokio::test]
    async fn netcdf3_records_at_recsize_stride() {
        let dir = tempfile::tempdir().unwrap();
        crate::fixtures::write_all(dir.path()).unwrap();
        for name in ["sst_classic.nc", "offset64.nc"] {
            let path = dir.path().join(name);
            let r = open(
                &Location::Local(path.clone()),
                &std::sync::Arc::new(Storage::default()),
                &netcdf_c(),
            )
            .await
            .unwrap();
            let bytes = std::fs::read(&path).unwrap();
            for var in ["/sst", "/sst_packed", "/quality", "/time"] {
                let idx = r.chunk_index(var).await.unwrap().unwrap();
                assert!(!idx.little_endian);
                assert_eq!(idx.chunks.len(), 3, "{var}");
                let shape = r.metadata().variable(var).unwrap().shape();
                let all = r.read(var, &Hyperslab::full(&shape)).await.unwrap();
                let per = all.len() / 3;
                for c in &idx.chunks {
                    let raw = &bytes[c.offset as usize..(c.offset + c.size) as usize];
                    let size = all.dtype().size().unwrap();
                    let ne: Vec<u8> = raw
                        .chunks(size)
                        .flat_map(|e| e.iter().rev().copied().collect::<Vec<_>>())
                        .collect();
                    let got = ArrayValues::from_ne_bytes(all.dtype(), &ne).unwrap();
                    let r0 = c.coords[0] as usize;
                    let want = all.values.to_f64()[r0 * per..(r0 + 1) * per].to_vec();
                    assert_eq!(got.to_f64(), want, "{name}{var} record {r0}");
                }
            }
            let lat = r.chunk_index("/lat").await.unwrap().unwrap();
            assert_eq!(lat.chunk_shape, vec![10]);
            let p = r.chunk_index("/platform").await.unwrap().unwrap();
            let c = &p.chunks[0];
            assert_eq!(
                &bytes[c.offset as usize..(c.offset + c.size) as usize],
                b"ARGO-123"
            );
        }
        let path = dir.path().join("types_cdf5.nc");
        let r = open(
            &Location::Local(path.clone()),
            &std::sync::Arc::new(Storage::default()),
            &netcdf_c(),
        )
        .await
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let c = &r.chunk_index("/v_u64").await.unwrap().unwrap().chunks[0];
        assert_eq!(&bytes[c.offset as usize..c.offset as usize + 8], &[0u8; 8]);
        assert_eq!(
            &bytes[c.offset as usize + 24..c.offset as usize + 32],
            &[0xff; 8]
        );
    }

    #[tokio::test]
    async fn compact_storage_has_no_ranges() {
        use netcdf_sys::*;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("compact.nc");
        let cpath = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        {
            let _lock = libnetcdf_lock.lock();
            // SAFETY: netCDF-C calls on a file created and closed here.
            unsafe {
                let (mut nc, mut x, mut v) = (0, 0, 0);
                assert_eq!(
                    nc_create(cpath.as_ptr(), NC_NETCDF4 | NC_CLOBBER, &mut nc),
                    0
                );
                assert_eq!(nc_def_dim(nc, c"x".as_ptr(), 4, &mut x), 0);
                assert_eq!(nc_def_var(nc, c"v".as_ptr(), NC_INT, 1, &x, &mut v), 0);
                assert_eq!(nc_def_var_chunking(nc, v, NC_COMPACT, std::ptr::null()), 0);
                assert_eq!(nc_enddef(nc), 0);
                let data = [1i32, 2, 3, 4];
                assert_eq!(nc_put_var_int(nc, v, data.as_ptr()), 0);
                assert_eq!(nc_close(nc), 0);
            }
        }
        let r = open(
            &Location::Local(path),
            &std::sync::Arc::new(Storage::default()),
            &netcdf_c(),
        )
        .await
        .unwrap();
        assert_eq!(r.chunk_index("/v").await.unwrap(), None);
        let all = r.read("/v", &Hyperslab::full(&[4])).await.unwrap();
        assert_eq!(all.values, ArrayValues::I32(vec![1, 2, 3, 4]));
    }
}
