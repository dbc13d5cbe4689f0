//! The stored layout of Zarr arrays whose codecs the model's `Filter`s describe (no
//! compression, byte shuffle, zlib), so virtual Zarr can send their chunks as stored:
//! chunk keys parsed back into grid coordinates, sizes from the key listing.

use serde_json::Value;

use crate::model::{ChunkEntry, ChunkIndex, Filter};

/// How chunk keys are spelt below an array's path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyEncoding {
    /// v3's default encoding puts `c` before the indices.
    prefix_c: bool,
    separator: char,
}

fn separator(v: Option<&Value>, default: char) -> char {
    match v.and_then(Value::as_str) {
        Some("/") => '/',
        Some(".") => '.',
        _ => default,
    }
}

/// The layout (chunk shape, filters, byte order; no chunks yet) and key encoding of an
/// array's metadata, if its codecs are ones the model describes.
pub fn stored_layout(metadata: &Value, v3: bool, elem: usize) -> Option<(ChunkIndex, KeyEncoding)> {
    let numbers = |v: &Value| -> Option<Vec<usize>> {
        v.as_array()?
            .iter()
            .map(|n| n.as_u64().and_then(|n| usize::try_from(n).ok()))
            .collect()
    };
    let (chunk_shape, filters, little_endian, keys) = if v3 {
        let grid = metadata.get("chunk_grid")?;
        if grid.get("name")?.as_str()? != "regular" {
            return None;
        }
        let chunk_shape = numbers(grid.get("configuration")?.get("chunk_shape")?)?;
        let encoding = metadata.get("chunk_key_encoding")?;
        let keys = match encoding.get("name")?.as_str()? {
            "default" => KeyEncoding {
                prefix_c: true,
                separator: separator(encoding.pointer("/configuration/separator"), '/'),
            },
            "v2" => KeyEncoding {
                prefix_c: false,
                separator: separator(encoding.pointer("/configuration/separator"), '.'),
            },
            _ => return None,
        };
        let codecs = metadata.get("codecs")?.as_array()?;
        let (first, rest) = codecs.split_first()?;
        if first.get("name")?.as_str()? != "bytes" {
            return None;
        }
        let little = first
            .pointer("/configuration/endian")
            .and_then(Value::as_str)
            != Some("big");
        let mut filters = Vec::new();
        for c in rest {
            match c.get("name")?.as_str()? {
                "numcodecs.zlib" | "zlib" => filters.push(Filter::Deflate {
                    level: c
                        .pointer("/configuration/level")
                        .and_then(Value::as_u64)
                        .unwrap_or(1) as u32,
                }),
                _ => return None,
            }
        }
        (chunk_shape, filters, little, keys)
    } else {
        if metadata.get("order").and_then(Value::as_str) == Some("F") {
            return None;
        }
        let chunk_shape = numbers(metadata.get("chunks")?)?;
        let little = !metadata.get("dtype")?.as_str()?.starts_with('>');
        let mut filters = Vec::new();
        let declared = metadata
            .get("filters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // Filters run before the compressor; kerchunk lists HDF5's whole pipeline
        // (zlib included) as filters.
        let compressor = metadata.get("compressor").filter(|c| !c.is_null());
        for f in declared.iter().chain(compressor) {
            match f.get("id")?.as_str()? {
                "shuffle" => {
                    let size = f.get("elementsize").and_then(Value::as_u64).unwrap_or(4);
                    filters.push(Filter::Shuffle {
                        element_size: size as usize,
                    });
                }
                "zlib" => {
                    let level = f.get("level").and_then(Value::as_u64).unwrap_or(1);
                    filters.push(Filter::Deflate {
                        level: level as u32,
                    });
                }
                _ => return None,
            }
        }
        let keys = KeyEncoding {
            prefix_c: false,
            separator: separator(metadata.get("dimension_separator"), '.'),
        };
        (chunk_shape, filters, little, keys)
    };
    let endian_free = elem == 1;
    let index = ChunkIndex {
        chunk_shape,
        filters,
        little_endian: little_endian || endian_free,
        chunks: Vec::new(),
        records: false,
    };
    Some((index, keys))
}

/// Grid coordinates of a chunk key below its array's path (`0.1`, `c/0/1`); `None` for
/// other keys (metadata, keys of sub-nodes).
pub fn coords(rest: &str, keys: KeyEncoding, rank: usize) -> Option<Vec<u64>> {
    let indices = if keys.prefix_c {
        match rest.strip_prefix('c') {
            Some("") if rank == 0 => return Some(Vec::new()),
            Some(r) => r.strip_prefix(keys.separator)?,
            None => return None,
        }
    } else if rank == 0 {
        return (rest == "0").then(Vec::new);
    } else {
        rest
    };
    let parsed: Option<Vec<u64>> = indices
        .split(keys.separator)
        .map(|p| p.parse().ok())
        .collect();
    parsed.filter(|c| c.len() == rank)
}

/// The chunk entries of an array at `node` among every `(key, size)` of the hierarchy.
pub fn entries(
    listing: &[(String, u64)],
    node: &str,
    keys: KeyEncoding,
    rank: usize,
) -> Vec<ChunkEntry> {
    let prefix = format!("{node}/");
    listing
        .iter()
        .filter_map(|(key, size)| {
            let coords = coords(key.strip_prefix(&prefix)?, keys, rank)?;
            Some(ChunkEntry {
                coords,
                offset: 0,
                size: *size,
                filter_mask: 0,
                key: Some(key.clone()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v2_layouts() {
        let m = json!({"chunks": [2, 3], "dtype": "<f4", "order": "C",
            "filters": [{"id": "shuffle", "elementsize": 4}], "compressor": {"id": "zlib", "level": 4}});
        let (index, keys) = stored_layout(&m, false, 4).unwrap();
        assert_eq!(
            index.filters,
            vec![
                Filter::Shuffle { element_size: 4 },
                Filter::Deflate { level: 4 }
            ]
        );
        assert_eq!(index.chunk_shape, vec![2, 3]);
        assert!(index.little_endian);
        assert_eq!(coords("1.2", keys, 2), Some(vec![1, 2]));
        assert_eq!(coords(".zarray", keys, 2), None);
        assert_eq!(coords("1.2.3", keys, 2), None);
        let kerchunk = json!({"chunks": [2], "dtype": "<f4", "compressor": null,
            "filters": [{"id": "shuffle", "elementsize": 4}, {"id": "zlib", "level": 4}]});
        let (index, _) = stored_layout(&kerchunk, false, 4).unwrap();
        assert_eq!(
            index.filters,
            vec![
                Filter::Shuffle { element_size: 4 },
                Filter::Deflate { level: 4 }
            ]
        );
        let blosc = json!({"chunks": [2], "dtype": "<f4", "compressor": {"id": "blosc"}});
        assert!(stored_layout(&blosc, false, 4).is_none());
        let big =
            json!({"chunks": [2], "dtype": ">i2", "compressor": null, "dimension_separator": "/"});
        let (index, keys) = stored_layout(&big, false, 2).unwrap();
        assert!(!index.little_endian && index.filters.is_empty());
        assert_eq!(coords("3/4", keys, 2), Some(vec![3, 4]));
        assert_eq!(coords("0", keys, 0), Some(vec![]));
    }

    #[test]
    fn v3_layouts() {
        let m = json!({"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4]}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]});
        let (index, keys) = stored_layout(&m, true, 8).unwrap();
        assert!(index.filters.is_empty());
        assert_eq!(coords("c/7", keys, 1), Some(vec![7]));
        assert_eq!(coords("c", keys, 0), Some(vec![]));
        assert_eq!(coords("zarr.json", keys, 1), None);
        let listing = vec![
            ("t/c/0".to_string(), 10),
            ("t/zarr.json".into(), 5),
            ("u/c/0".into(), 3),
        ];
        let found = entries(&listing, "t", keys, 1);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].size, found[0].key.as_deref()),
            (10, Some("t/c/0"))
        );
        let zstd = json!({"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4]}},
            "chunk_key_encoding": {"name": "default"},
            "codecs": [{"name": "bytes"}, {"name": "zstd"}]});
        assert!(stored_layout(&zstd, true, 4).is_none());
    }
}
