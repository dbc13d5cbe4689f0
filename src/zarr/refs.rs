//! `refs.json`: a kerchunk reference set (version 1) of a dataset, for fsspec's
//! ReferenceFileSystem. Chunks that lie as they are in the original file are referenced
//! by (file URL, offset, size), including those the Zarr endpoints decode for
//! convenience (NetCDF-3 records, coordinates); small decoded arrays are inlined, and
//! the rest point at this server's v2 chunk URLs.

use std::sync::Arc;

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::catalog::Dataset;

use super::chunk::{self, Source};
use super::error::ZarrError;
use super::layout::{self, ArrayLayout, StoreLayout};
use super::metadata;

/// Arrays up to this many bytes are inlined in the references when not referenced in
/// the file.
const INLINE_BYTES: usize = 256 << 10;

pub async fn references(
    ds: &Arc<Dataset>,
    layout: &StoreLayout,
    zarr_url: &str,
    max: u64,
) -> Result<Value, ZarrError> {
    let mut refs = Map::new();
    let doc = |v: Value| Value::String(v.to_string());
    for g in &layout.groups {
        let prefix = if g.key.is_empty() {
            String::new()
        } else {
            format!("{}/", g.key)
        };
        refs.insert(format!("{prefix}.zgroup"), doc(metadata::zgroup()));
        refs.insert(format!("{prefix}.zattrs"), doc(metadata::zattrs_group(g)));
    }
    let file_url = ds.location.to_string();
    for served in &layout.arrays {
        let array = file_layout(ds, served).await?;
        let a = array.as_ref().unwrap_or(served);
        refs.insert(format!("{}/.zarray", a.key), doc(metadata::zarray(a)));
        refs.insert(format!("{}/.zattrs", a.key), doc(metadata::zattrs_array(a)));
        let whole = a.shape.iter().product::<usize>() * a.dtype.size().unwrap_or(16);
        let inline = array.is_none() && whole <= INLINE_BYTES.min(max as usize);
        let stored = a.stored_chunks(ds).await?;
        for coords in grid_coords(&a.grid()) {
            let key = format!("{}/{}", a.key, chunk_name(&coords));
            let Some(source) = chunk::source(a, stored.as_deref(), &coords, true) else {
                continue;
            };
            let written = stored.as_ref().is_none_or(|m| m.contains_key(&coords));
            let value = match source {
                Source::Absent => continue,
                Source::Stored {
                    offset,
                    size,
                    key: None,
                } => json!([file_url, offset, size]),
                Source::Stored {
                    offset,
                    size,
                    key: Some(chunk),
                } => match ds.reader.chunk_file(&chunk) {
                    // In an aggregation member's file.
                    Some((location, _)) => json!([location.to_string(), offset, size]),
                    // Kept apart from the dataset's file (a Zarr store's chunk objects):
                    // the server's v2 key serves them as stored.
                    None => json!([format!("{zarr_url}/{key}")]),
                },
                Source::Encode if inline => {
                    let bytes = chunk::encode(ds, a, &coords, written).await?;
                    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
                    Value::String(format!("base64:{b64}"))
                }
                // The server answers this key of the v2 store with the same grid.
                Source::Encode => json!([format!("{zarr_url}/{key}")]),
            };
            refs.insert(key, value);
        }
    }
    Ok(json!({"version": 1, "refs": refs}))
}

/// The layout referencing the file's own bytes for an array the Zarr endpoints decode,
/// when the reader can say where they lie (`None`: use the served layout). Chunks the
/// file layout would need encoded must map onto the served grid, so only arrays whose
/// every stored chunk is usable as it is qualify.
async fn file_layout(
    ds: &Arc<Dataset>,
    served: &ArrayLayout,
) -> Result<Option<ArrayLayout>, ZarrError> {
    if served.is_native() {
        return Ok(None);
    }
    let Some(var) = ds.meta.variable(&served.var_path) else {
        return Ok(None);
    };
    let Ok(Some(index)) = ds.reader.chunk_index(&served.var_path).await else {
        return Ok(None);
    };
    let complete = index.chunks.len() as u64;
    let all_plain = index.chunks.iter().all(|c| c.filter_mask == 0);
    let Some(a) = layout::native_layout(var, index, u64::MAX, true) else {
        return Ok(None);
    };
    let usable = all_plain && (a.fill.is_some() || complete == a.grid().iter().product::<u64>());
    Ok(usable.then_some(a))
}

/// The v2 chunk key name: `i.j.k`, `0` for a scalar.
pub fn chunk_name(coords: &[u64]) -> String {
    if coords.is_empty() {
        return "0".into();
    }
    coords
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// Every coordinate of a chunk grid, row-major.
fn grid_coords(grid: &[u64]) -> impl Iterator<Item = Vec<u64>> + '_ {
    let total: u64 = grid.iter().product();
    let mut next = vec![0u64; grid.len()];
    (0..total).map(move |_| {
        let out = next.clone();
        for d in (0..next.len()).rev() {
            next[d] += 1;
            if next[d] < grid[d] {
                break;
            }
            next[d] = 0;
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_and_names() {
        let all: Vec<_> = grid_coords(&[2, 2]).collect();
        assert_eq!(all, vec![vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]]);
        assert_eq!(grid_coords(&[]).count(), 1);
        assert_eq!(grid_coords(&[0, 3]).count(), 0);
        assert_eq!(chunk_name(&[]), "0");
        assert_eq!(chunk_name(&[1, 20]), "1.20");
    }
}
