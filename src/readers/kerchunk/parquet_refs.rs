//! kerchunk references stored as Parquet (fsspec's `LazyReferenceMapper`, written by
//! kerchunk's `refs_to_dataframe`): a directory holding `.zmetadata` — `{"metadata":
//! {key: document}, "record_size": n}` — and, per array, `{array}/refs.{i}.parq`, one
//! row per chunk in C order of the chunk grid (columns `path`, `offset`, `size`, `raw`):
//! chunk `k` is row `k % n` of file `k / n`. A row with `raw` holds the chunk itself;
//! one with neither `raw` nor `path` is a chunk never written; `offset` = `size` = 0
//! refers to the whole file. The references are loaded at open into the same key map
//! as a JSON reference file's.

use std::collections::HashMap;

use bytes::Bytes;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::{Map, Value};

use super::reference::Ref;
use crate::readers::ReadError;
use crate::readers::reader::OpenRequest;
use crate::storage::{Location, StorageError};

/// Largest `.zmetadata` or Parquet file read (a reference file holds no data).
const MAX_FILE_BYTES: u64 = 256 << 20;
/// Most chunks one array's references may list (rows kept in memory).
const MAX_CHUNKS: u64 = 50_000_000;

/// A Parquet reference directory's metadata documents (by key) and record size.
type Zmetadata = (Map<String, Value>, u64);

/// The metadata documents and record size of a Parquet reference directory's
/// `.zmetadata`; `None` for another document (a consolidated Zarr store's).
fn parse_zmetadata(bytes: &[u8]) -> Result<Option<Zmetadata>, String> {
    let top: Map<String, Value> = match serde_json::from_slice(bytes) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return Ok(None),
        Err(e) => return Err(format!(".zmetadata: invalid JSON: {e}")),
    };
    let Some(record_size) = top.get("record_size") else {
        return Ok(None);
    };
    let record_size = record_size
        .as_u64()
        .filter(|n| *n > 0)
        .ok_or(".zmetadata: record_size is not a positive integer")?;
    match top.get("metadata") {
        Some(Value::Object(m)) => Ok(Some((m.clone(), record_size))),
        _ => Err(".zmetadata: no metadata object".into()),
    }
}

/// An array's chunk grid: chunks along each dimension, and the key separator.
struct Grid {
    chunks: Vec<u64>,
    separator: String,
}

impl Grid {
    fn of(zarray: &Value) -> Result<Grid, String> {
        let dims = |name: &str| -> Result<Vec<u64>, String> {
            zarray
                .get(name)
                .and_then(Value::as_array)
                .ok_or(format!("no {name}"))?
                .iter()
                .map(|v| v.as_u64().ok_or(format!("{name} is not integers")))
                .collect()
        };
        let (shape, chunks) = (dims("shape")?, dims("chunks")?);
        if shape.len() != chunks.len() || chunks.contains(&0) {
            return Err("shape and chunks do not match".into());
        }
        let separator = zarray
            .get("dimension_separator")
            .and_then(Value::as_str)
            .unwrap_or(".")
            .to_string();
        Ok(Grid {
            chunks: shape
                .iter()
                .zip(&chunks)
                .map(|(s, c)| s.div_ceil(*c))
                .collect(),
            separator,
        })
    }

    fn count(&self) -> Option<u64> {
        self.chunks.iter().try_fold(1u64, |n, c| n.checked_mul(*c))
    }

    /// The key of chunk `k` (C order) under `array`.
    fn key(&self, array: &str, mut k: u64) -> String {
        if self.chunks.is_empty() {
            return format!("{array}/0");
        }
        let mut coords = vec![0u64; self.chunks.len()];
        for d in (0..self.chunks.len()).rev() {
            coords[d] = k % self.chunks[d];
            k /= self.chunks[d];
        }
        let coords: Vec<String> = coords.iter().map(u64::to_string).collect();
        format!("{array}/{}", coords.join(&self.separator))
    }
}

/// The references of one Parquet file's rows: (row, reference); rows of chunks never
/// written are left out.
fn rows(bytes: Bytes) -> Result<Vec<(u64, Ref)>, String> {
    let reader = SerializedFileReader::new(bytes).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let iter = reader.get_row_iter(None).map_err(|e| e.to_string())?;
    for (n, row) in iter.enumerate() {
        let row = row.map_err(|e| e.to_string())?;
        let (mut path, mut offset, mut size, mut raw) = (None, 0i64, 0i64, None);
        for (name, field) in row.get_column_iter() {
            match (name.as_str(), field) {
                ("path", Field::Str(s)) => path = Some(s.clone()),
                ("offset", Field::Long(v)) => offset = *v,
                ("offset", Field::Int(v)) => offset = *v as i64,
                ("size", Field::Long(v)) => size = *v,
                ("size", Field::Int(v)) => size = *v as i64,
                ("raw", Field::Bytes(b)) => raw = Some(Bytes::copy_from_slice(b.data())),
                _ => {}
            }
        }
        let reference = match (raw, path) {
            (Some(b), _) => Ref::Inline(b),
            (None, None) => continue,
            (None, Some(url)) if offset == 0 && size == 0 => Ref::Whole(url),
            (None, Some(url)) => Ref::Range {
                url,
                offset: u64::try_from(offset).map_err(|_| format!("row {n}: offset {offset}"))?,
                length: u64::try_from(size).map_err(|_| format!("row {n}: size {size}"))?,
            },
        };
        out.push((n as u64, reference));
    }
    Ok(out)
}

async fn read_whole(req: &OpenRequest<'_>, loc: &Location) -> Result<Option<Bytes>, ReadError> {
    let version = match req.storage.head(loc).await {
        Ok(v) => v,
        Err(StorageError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if version.size > MAX_FILE_BYTES {
        return Err(ReadError::Unsupported(format!(
            "a reference file of {} bytes",
            version.size
        )));
    }
    Ok(Some(
        req.storage
            .get_range_at(loc, &version, 0..version.size)
            .await?,
    ))
}

/// The references of the Parquet reference directory at `req.location`, or `None`
/// when its `.zmetadata` is not one (a consolidated Zarr store).
pub(super) async fn load(req: &OpenRequest<'_>) -> Result<Option<HashMap<String, Ref>>, ReadError> {
    let damaged = |message: String| ReadError::Format {
        location: req.location.to_string(),
        message,
    };
    // A store without `.zmetadata` (Zarr v3, unconsolidated v2), or one whose
    // `.zmetadata` cannot be read here, is left to the Zarr store reader, which reports
    // its own errors.
    let zmetadata = match read_whole(req, &req.location.join(".zmetadata")).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(e) => {
            tracing::debug!(location = %req.location, error = %e, "no Parquet references");
            return Ok(None);
        }
    };
    let Some((metadata, record_size)) = parse_zmetadata(&zmetadata).map_err(damaged)? else {
        return Ok(None);
    };
    let mut refs = HashMap::new();
    let mut arrays = Vec::new();
    for (key, doc) in &metadata {
        // Documents are JSON objects (or, from some writers, JSON text).
        let bytes = match doc {
            Value::String(text) => Bytes::from(text.clone().into_bytes()),
            other => Bytes::from(serde_json::to_vec(other).map_err(|e| damaged(e.to_string()))?),
        };
        refs.insert(key.clone(), Ref::Inline(bytes));
        if let Some(array) = key.strip_suffix("/.zarray") {
            let doc = match doc {
                Value::String(text) => serde_json::from_str(text)
                    .map_err(|e| damaged(format!("{key}: invalid JSON: {e}")))?,
                other => other.clone(),
            };
            let grid = Grid::of(&doc).map_err(|m| damaged(format!("{key}: {m}")))?;
            arrays.push((array.to_string(), grid));
        }
    }
    for (array, grid) in arrays {
        let count = grid
            .count()
            .filter(|n| *n <= MAX_CHUNKS)
            .ok_or_else(|| damaged(format!("{array}: too many chunks")))?;
        for file in 0..count.div_ceil(record_size) {
            let loc = req.location.join(&format!("{array}/refs.{file}.parq"));
            // A file never written: all its chunks are missing.
            let Some(bytes) = read_whole(req, &loc).await? else {
                continue;
            };
            let parsed = tokio::task::spawn_blocking(move || rows(bytes))
                .await
                .map_err(|e| ReadError::Internal(e.to_string()))?
                .map_err(|m| damaged(format!("{array}/refs.{file}.parq: {m}")))?;
            for (row, reference) in parsed {
                let k = file * record_size + row;
                if row >= record_size || k >= count {
                    break;
                }
                refs.insert(grid.key(&array, k), reference);
            }
        }
    }
    Ok(Some(refs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zmetadata_of_references_and_of_stores() {
        let refs = br#"{"metadata": {".zgroup": {"zarr_format": 2}}, "record_size": 10}"#;
        let (m, n) = parse_zmetadata(refs).unwrap().unwrap();
        assert_eq!(n, 10);
        assert!(m.contains_key(".zgroup"));
        let store =
            br#"{"metadata": {".zgroup": {"zarr_format": 2}}, "zarr_consolidated_format": 1}"#;
        assert!(parse_zmetadata(store).unwrap().is_none());
        assert!(parse_zmetadata(br#"{"metadata": {}, "record_size": 0}"#).is_err());
        assert!(parse_zmetadata(br#"{"record_size": 4}"#).is_err());
        assert!(parse_zmetadata(b"{").is_err());
    }

    #[test]
    fn chunk_keys_in_c_order() {
        let zarray: Value = serde_json::from_str(
            r#"{"shape": [6, 4, 5], "chunks": [1, 3, 5], "dimension_separator": "/"}"#,
        )
        .unwrap();
        let g = Grid::of(&zarray).unwrap();
        assert_eq!(g.count(), Some(12));
        assert_eq!(g.key("sst", 0), "sst/0/0/0");
        assert_eq!(g.key("sst", 3), "sst/1/1/0");
        assert_eq!(g.key("sst", 11), "sst/5/1/0");
        let scalar = Grid::of(&serde_json::json!({"shape": [], "chunks": []})).unwrap();
        assert_eq!(scalar.key("x", 0), "x/0");
        assert!(Grid::of(&serde_json::json!({"shape": [4], "chunks": [0]})).is_err());
        assert!(Grid::of(&serde_json::json!({"shape": [4]})).is_err());
    }

    #[test]
    fn damaged_parquet_is_an_error() {
        assert!(rows(Bytes::from_static(b"PAR1 not parquet PAR1")).is_err());
        assert!(rows(Bytes::new()).is_err());
    }
}
