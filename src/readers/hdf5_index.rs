//! The chunk index of an HDF5 dataset (a NetCDF-4 variable) read without the C library,
//! by `hdf5-pure` over any byte source: what virtual Zarr needs for files in object
//! storage. Gives the same `ChunkIndex` as `hdf5_chunks` (which uses HDF5's C API on a
//! local path); tests compare the two.

use hdf5_pure::{DatatypeByteOrder, Layout};

use crate::model::{ChunkEntry, ChunkIndex, Filter};

/// The chunk index of the variable at `var_path` (`/g/v`) of shape `shape`; with
/// `with_chunks` false, only its chunk shape, filters and byte order. `Ok(None)` when
/// the layout cannot be described by byte ranges (compact, virtual, variable-length or
/// user-defined types).
pub fn chunk_index(
    file: &hdf5_pure::File,
    var_path: &str,
    shape: &[usize],
    with_chunks: bool,
) -> Result<Option<ChunkIndex>, String> {
    let d = open_dataset(file, var_path)?;
    let little_endian = match d.datatype().map_err(|e| e.to_string())? {
        hdf5_pure::Datatype::FixedPoint { byte_order, .. }
        | hdf5_pure::Datatype::FloatingPoint { byte_order, .. } => {
            byte_order != DatatypeByteOrder::BigEndian
        }
        hdf5_pure::Datatype::String { .. } => true,
        _ => return Ok(None),
    };
    match d.layout().map_err(|e| e.to_string())? {
        Layout::Contiguous { address, size } => Ok(Some(ChunkIndex::contiguous(
            shape,
            little_endian,
            address.filter(|_| with_chunks).map(|a| (a, size)),
        ))),
        Layout::Chunked { chunk_shape, .. } => {
            let chunk_shape: Vec<usize> = chunk_shape.iter().map(|&c| c as usize).collect();
            if chunk_shape.len() != shape.len() || chunk_shape.contains(&0) {
                return Ok(None);
            }
            let filters = d.filter_pipeline().into_iter().map(filter).collect();
            let chunks = if with_chunks {
                let mut chunks: Vec<ChunkEntry> = d
                    .chunks()
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .filter(|c| c.storage_size > 0)
                    .map(|c| ChunkEntry {
                        coords: c
                            .offset
                            .iter()
                            .zip(&chunk_shape)
                            .map(|(&o, &n)| o / n as u64)
                            .collect(),
                        offset: c.address,
                        size: c.storage_size,
                        filter_mask: c.filter_mask,
                        key: None,
                    })
                    // Chunks past the current extent (after a shrink) are not data.
                    .filter(|c| {
                        c.coords
                            .iter()
                            .zip(shape.iter().zip(&chunk_shape))
                            .all(|(&i, (&n, &cn))| (i as usize) < n.div_ceil(cn))
                    })
                    .collect();
                // Row-major order of the chunk grid, like the C-library index.
                chunks.sort_by(|a, b| a.coords.cmp(&b.coords));
                chunks
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

fn filter(f: hdf5_pure::Filter) -> Filter {
    match f.id {
        1 => Filter::Deflate {
            level: f.client_data.first().copied().unwrap_or(6),
        },
        2 => Filter::Shuffle {
            element_size: f.client_data.first().copied().unwrap_or(1) as usize,
        },
        3 => Filter::Fletcher32,
        id => Filter::Other {
            id: u32::from(id),
            params: f.client_data,
        },
    }
}

/// Opens a dataset, trying the name netCDF-C gives a variable that shares its name with
/// a dimension it does not use (`_nc4_non_coord_` prefix).
fn open_dataset(file: &hdf5_pure::File, var_path: &str) -> Result<hdf5_pure::Dataset, String> {
    let (group, name) = var_path.rsplit_once('/').unwrap_or(("", var_path));
    file.dataset(var_path)
        .or_else(|_| file.dataset(&format!("{group}/_nc4_non_coord_{name}")))
        .map_err(|e| format!("no HDF5 dataset for {var_path}: {e}"))
}
