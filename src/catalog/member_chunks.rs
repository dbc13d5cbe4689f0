//! An aggregation's stored chunks. When every member stores a variable with the same
//! chunk shape, filters and byte order, and chunk boundaries fall on member boundaries
//! along the joined dimension, the aggregation's chunk grid is the members' grids side
//! by side: Zarr clients then get the members' stored chunks as they are (one range
//! read each, no decoding here), as for a single file. Each entry names its member in
//! `ChunkEntry.key` (`Reader::chunk_file` / `stored_chunk` resolve it).

use std::collections::HashMap;

use crate::model::{ChunkIndex, DatasetMeta};
use crate::readers::{ReadError, Reader};

/// What joining chunks needs of an aggregation.
pub(super) struct JoinedChunks<'a> {
    pub meta: &'a DatasetMeta,
    /// Each member's reader, first index along the joined dimension, and length there.
    pub members: Vec<(&'a dyn Reader, usize, usize)>,
    /// Full path of the joined dimension (join kinds only).
    pub join_dim: Option<&'a str>,
    /// Union: which member holds each variable.
    pub owner: &'a HashMap<String, usize>,
}

/// The key of a member's chunk: `{member}` for bytes in the member's file,
/// `{member}/{key}` for a chunk the member itself names by `key`.
pub(super) fn member_key(member: usize, inner: Option<&str>) -> String {
    match inner {
        Some(k) => format!("{member}/{k}"),
        None => member.to_string(),
    }
}

/// The member and its own key of an aggregation chunk key.
pub(super) fn parse_key(key: &str) -> Option<(usize, Option<&str>)> {
    match key.split_once('/') {
        Some((m, inner)) => Some((m.parse().ok()?, Some(inner))),
        None => Some((key.parse().ok()?, None)),
    }
}

impl JoinedChunks<'_> {
    /// The chunk index of `path` (its layout only, without `with_chunks`), or `None`
    /// when the members' chunks cannot be served side by side.
    pub(super) async fn index(
        &self,
        path: &str,
        with_chunks: bool,
    ) -> Result<Option<ChunkIndex>, ReadError> {
        let Some(var) = self.meta.variable(path) else {
            return Ok(None);
        };
        if let Some(&i) = self.owner.get(&var.path) {
            return self.member_chunks(i, path, with_chunks).await;
        }
        let Some(join) = self.join_dim else {
            return Ok(None);
        };
        if var.path == join {
            return Ok(None); // its values are the aggregation's own
        }
        let Some(axis) = var.dims.iter().position(|d| d.path == join) else {
            return self.member_chunks(0, path, with_chunks).await;
        };
        let mut layout: Option<ChunkIndex> = None;
        for (reader, _, _) in &self.members {
            let Some(l) = reader.chunk_layout(path).await? else {
                return Ok(None);
            };
            match &layout {
                _ if l.records => return Ok(None),
                None => layout = Some(l),
                Some(first)
                    if first.chunk_shape == l.chunk_shape
                        && first.filters == l.filters
                        && first.little_endian == l.little_endian => {}
                Some(_) => return Ok(None),
            }
        }
        let Some(mut layout) = layout else {
            return Ok(None);
        };
        // A new dimension (join_new): each member is one step along it.
        let new_dim = layout.chunk_shape.len() + 1 == var.dims.len();
        if new_dim {
            layout.chunk_shape.insert(axis, 1);
        } else if layout.chunk_shape.len() != var.dims.len() {
            return Ok(None);
        }
        let step = layout.chunk_shape[axis];
        let last = self.members.len().saturating_sub(1);
        // Every member starts on a chunk boundary, and all but the last hold whole
        // chunks only (a partial chunk inside the grid would hold another member's
        // indices).
        let aligned = step > 0
            && self
                .members
                .iter()
                .enumerate()
                .all(|(i, (_, offset, len))| {
                    offset.is_multiple_of(step) && (i == last || len.is_multiple_of(step))
                });
        if !aligned {
            return Ok(None);
        }
        if !with_chunks {
            return Ok(Some(layout));
        }
        let mut chunks = Vec::new();
        for (i, (reader, offset, _)) in self.members.iter().enumerate() {
            let Some(index) = reader.chunk_index(path).await? else {
                return Ok(None);
            };
            let shift = (offset / step) as u64;
            for mut e in index.chunks {
                if new_dim {
                    e.coords.insert(axis, shift);
                } else if let Some(c) = e.coords.get_mut(axis) {
                    *c += shift;
                } else {
                    return Ok(None);
                }
                e.key = Some(member_key(i, e.key.as_deref()));
                chunks.push(e);
            }
        }
        layout.chunks = chunks;
        Ok(Some(layout))
    }

    /// Member `i`'s chunks of `path`, keyed to it (a variable only it holds, or one
    /// every member has alike).
    async fn member_chunks(
        &self,
        i: usize,
        path: &str,
        with_chunks: bool,
    ) -> Result<Option<ChunkIndex>, ReadError> {
        let Some((reader, _, _)) = self.members.get(i) else {
            return Ok(None);
        };
        let index = if with_chunks {
            reader.chunk_index(path).await?
        } else {
            reader.chunk_layout(path).await?
        };
        Ok(index.map(|mut index| {
            for e in &mut index.chunks {
                e.key = Some(member_key(i, e.key.as_deref()));
            }
            index
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::aggregation::{AggregationReader, Candidate};
    use crate::config::Combine;
    use crate::storage::{Location, Storage};
    use std::sync::Arc;

    /// `files` NetCDF-4 files of `steps` time steps each, `sst` chunked 2 × 4 × 5,
    /// joined along time.
    async fn joined(dir: &std::path::Path, files: usize, steps: usize) -> AggregationReader {
        let storage = Arc::new(Storage::new(
            Default::default(),
            Arc::new(crate::metrics::Metrics::new()),
        ));
        let mut candidates = Vec::new();
        for k in 0..files {
            let path = dir.join(format!("m{files}_{steps}_{k}.nc"));
            let mut f = netcdf::create_with(&path, netcdf::Options::NETCDF4).unwrap();
            f.add_dimension("time", steps).unwrap();
            f.add_dimension("lat", 4).unwrap();
            f.add_dimension("lon", 5).unwrap();
            let mut t = f.add_variable::<f64>("time", &["time"]).unwrap();
            t.put_attribute("units", "days since 2020-01-01").unwrap();
            let times: Vec<f64> = (0..steps).map(|i| (k * steps + i) as f64).collect();
            t.put_values(&times, ..).unwrap();
            let mut v = f
                .add_variable::<f32>("sst", &["time", "lat", "lon"])
                .unwrap();
            v.set_chunking(&[2, 4, 5]).unwrap();
            v.put_values(&vec![k as f32; steps * 20], ..).unwrap();
            drop(f);
            let location = Location::Local(path);
            let version = storage.head(&location).await.unwrap();
            let reader =
                crate::readers::open_at(&location, &version, &storage, &Default::default())
                    .await
                    .unwrap();
            candidates.push(Candidate {
                id: format!("{k}"),
                location,
                version,
                reader,
            });
        }
        let combine = Combine::JoinExisting { dim: "time".into() };
        AggregationReader::build(candidates, &combine)
            .await
            .unwrap()
            .0
    }

    #[tokio::test]
    async fn member_chunks_side_by_side_only_when_aligned() {
        use crate::readers::Reader;
        let dir = tempfile::tempdir().unwrap();
        // 3 files of 4 steps, chunks of 2 steps: chunks 0–1, 2–3, 4–5 along time.
        let agg = joined(dir.path(), 3, 4).await;
        let index = agg.chunk_index("/sst").await.unwrap().expect("aligned");
        assert_eq!(index.chunk_shape, vec![2, 4, 5]);
        let mut along: Vec<(u64, String)> = index
            .chunks
            .iter()
            .map(|c| (c.coords[0], c.key.clone().unwrap()))
            .collect();
        along.sort();
        let want: Vec<(u64, String)> = (0..6).map(|c| (c, (c / 2).to_string())).collect();
        assert_eq!(along, want);
        let (location, _) = agg.chunk_file("2").unwrap();
        assert!(location.to_string().ends_with("m3_4_2.nc"));
        // 3 steps per file: a 2-step chunk would straddle two files.
        let agg = joined(dir.path(), 3, 3).await;
        assert!(agg.chunk_index("/sst").await.unwrap().is_none());
        assert!(agg.chunk_layout("/sst").await.unwrap().is_none());
    }

    #[test]
    fn keys_round_trip() {
        assert_eq!(parse_key(&member_key(3, None)), Some((3, None)));
        assert_eq!(
            parse_key(&member_key(12, Some("sst/0.1.2"))),
            Some((12, Some("sst/0.1.2")))
        );
        assert_eq!(parse_key("x/y"), None);
    }
}
