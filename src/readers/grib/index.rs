//! The message index of one GRIB file version: each message's byte range and keys,
//! and the geography of each distinct grid. Built once when the file is opened, from
//! byte ranges of a few MiB (local or object storage alike); afterwards one field is
//! one range read.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use super::ffi;
use super::frame::{Framing, check_end, find_indicator, message_len};
use super::keys::{
    Geography, KeyValue, Keys, ParameterNames, read_geography, read_keys, reference_time,
    step_hours,
};
use super::multi_field;
use crate::readers::ReadError;
use crate::storage::{Location, ObjectVersion, Storage};

/// One message of the file.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub offset: u64,
    pub length: u64,
    pub keys: Keys,
    /// Forecast reference time, seconds since 1970-01-01.
    pub time: i64,
    /// Forecast step, hours.
    pub step: f64,
    /// Index into `MessageIndex::grids`.
    pub grid: usize,
    /// Which field of a multi-field GRIB 2 message this is (`multi_field.rs`);
    /// `None` for a message of one field.
    pub part: Option<usize>,
}

impl Field {
    pub(crate) fn text(&self, key: &str) -> Option<&str> {
        match self.keys.get(key) {
            Some(KeyValue::Text(t)) => Some(t),
            _ => None,
        }
    }
}

/// Every message of a file, in file order, and their grids.
#[derive(Debug, Default)]
pub(crate) struct MessageIndex {
    pub fields: Vec<Field>,
    pub grids: Vec<Arc<Geography>>,
}

/// How much is read at a time while indexing: most messages of a file come in one read.
const WINDOW: u64 = 4 << 20;
/// Messages larger than this are refused (the largest real fields are ~100 MiB).
const MAX_MESSAGE: u64 = 1 << 30;

/// What indexing a file has met so far: its grids (by their defining keys) and the
/// names of its parameters.
#[derive(Default)]
struct Seen {
    grids: HashMap<String, usize>,
    parameters: ParameterNames,
}

/// Decodes the keys (and new grids) of the messages `batch` (offset, bytes), under the
/// ecCodes lock on the blocking pool.
fn index_batch(
    batch: Vec<(u64, Bytes)>,
    max_points: usize,
    seen: &mut Seen,
    index: &mut MessageIndex,
) -> Result<(), String> {
    for (offset, bytes) in batch {
        let length = bytes.len() as u64;
        match multi_field::split(&bytes).map_err(|e| format!("message at byte {offset}: {e}"))? {
            None => index_field(offset, length, &bytes, None, max_points, seen, index)?,
            Some(fields) => {
                for (k, field) in fields.iter().enumerate() {
                    index_field(offset, length, field, Some(k), max_points, seen, index)?;
                }
            }
        }
    }
    Ok(())
}

/// Indexes one field: a message, or one field of a multi-field message cut out as a
/// message of its own (`part`); grids of more than `max_points` points are refused.
fn index_field(
    offset: u64,
    length: u64,
    bytes: &[u8],
    part: Option<usize>,
    max_points: usize,
    seen: &mut Seen,
    index: &mut MessageIndex,
) -> Result<(), String> {
    let at = |e: String| match part {
        Some(k) => format!("message at byte {offset}, field {}: {e}", k + 1),
        None => format!("message at byte {offset}: {e}"),
    };
    let Seen {
        grids: grid_ids,
        parameters,
    } = seen;
    let known: &HashMap<String, usize> = grid_ids;
    let (keys, grid) = ffi::with_message(bytes, |m| {
        let keys = read_keys(m, parameters)?;
        let grid_key = grid_key(&keys);
        // A grid's coordinates are computed once, from its first message.
        let grid = match known.contains_key(&grid_key) {
            true => None,
            false => Some((grid_key, read_geography(m, &keys, max_points)?)),
        };
        Ok((keys, grid))
    })
    .map_err(at)?;
    let grid = match grid {
        Some((k, g)) => {
            index.grids.push(Arc::new(g));
            grid_ids.insert(k, index.grids.len() - 1);
            index.grids.len() - 1
        }
        None => grid_ids[&grid_key(&keys)],
    };
    index.fields.push(Field {
        offset,
        length,
        time: reference_time(&keys).map_err(at)?,
        step: step_hours(&keys).map_err(at)?,
        keys,
        grid,
        part,
    });
    Ok(())
}

/// What identifies a grid: its section's checksum where ecCodes gives one.
fn grid_key(keys: &Keys) -> String {
    match keys.get("md5GridSection") {
        Some(KeyValue::Text(md5)) => md5.clone(),
        _ => format!("{:?}", (keys.get("gridType"), keys.get("numberOfPoints"))),
    }
}

/// Builds the index of the file at `loc`, as it is at `version`. A grid of more than
/// `max_points` points is refused: ecCodes sorts all of a regular grid's points to
/// give its distinct latitudes and longitudes, and decodes a field whole.
pub(crate) async fn build(
    loc: &Location,
    version: &ObjectVersion,
    storage: &Storage,
    max_points: usize,
) -> Result<MessageIndex, ReadError> {
    build_by(loc, version, storage, WINDOW, max_points).await
}

/// `build`, reading `window` bytes at a time.
async fn build_by(
    loc: &Location,
    version: &ObjectVersion,
    storage: &Storage,
    window_bytes: u64,
    max_points: usize,
) -> Result<MessageIndex, ReadError> {
    let damaged = |message: String| ReadError::Format {
        location: loc.to_string(),
        message,
    };
    let size = version.size;
    let mut index = MessageIndex::default();
    let mut seen = Seen::default();
    let mut pos = 0u64;
    while pos < size {
        let end = size.min(pos + window_bytes);
        let window = storage.get_range_at(loc, version, pos..end).await?;
        let mut batch = Vec::new();
        let mut at = 0usize;
        // Where the next window starts.
        let next = loop {
            // Padding between messages (zeros, bulletin headers) is skipped, as ecCodes
            // does; an indicator may straddle windows, so 3 bytes are read again.
            let Some(start) = find_indicator(&window, at) else {
                break if end == size { size } else { end - 3 };
            };
            let abs = pos + start as u64;
            let len = match message_len(&window[start..]).map_err(&damaged)? {
                Framing::Length(len) => len,
                Framing::NeedBytes(_) if end < size => break abs,
                Framing::NeedBytes(_) => return Err(damaged("truncated message header".into())),
            };
            if len > MAX_MESSAGE || abs + len > size {
                return Err(damaged(format!(
                    "message at byte {abs} runs past the end of the file (truncated?)"
                )));
            }
            let message = if (start as u64 + len) <= window.len() as u64 {
                window.slice(start..start + len as usize)
            } else if batch.is_empty() {
                // A message larger than the window: read alone.
                storage.get_range_at(loc, version, abs..abs + len).await?
            } else {
                break abs;
            };
            check_end(&message).map_err(|e| damaged(format!("message at byte {abs}: {e}")))?;
            batch.push((abs, message));
            at = start + len as usize;
            if at >= window.len() {
                break pos + at as u64;
            }
        };
        if next <= pos {
            return Err(damaged(format!(
                "no progress framing messages at byte {pos}"
            )));
        }
        pos = next;
        if batch.is_empty() {
            continue;
        }
        let (returned, kept, decoded) = tokio::task::spawn_blocking(move || {
            let (mut index, mut seen) = (index, seen);
            let decoded = index_batch(batch, max_points, &mut seen, &mut index);
            (index, seen, decoded)
        })
        .await
        .map_err(|e| ReadError::Internal(e.to_string()))?;
        (index, seen) = (returned, kept);
        decoded.map_err(&damaged)?;
    }
    if index.fields.is_empty() {
        return Err(damaged("no GRIB messages".into()));
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// `bytes` as a local file (kept while the directory lives), its storage and version.
    async fn local_file(
        bytes: &[u8],
    ) -> (tempfile::TempDir, Location, Arc<Storage>, ObjectVersion) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.grib2");
        std::fs::write(&path, bytes).unwrap();
        let loc = Location::Local(path);
        let storage = Arc::new(Storage::default());
        let version = storage.head(&loc).await.unwrap();
        (dir, loc, storage, version)
    }

    /// Windows smaller than a message, and windows that cut headers anywhere, frame the
    /// same messages as one window over the whole file; padding between messages is
    /// skipped.
    #[tokio::test]
    async fn any_window_size_frames_the_same_messages() {
        let mut bytes = super::super::testdata::mixed_levels().unwrap();
        // Padding after the first message, as some archives have between messages.
        let first = u64::from_be_bytes(bytes[8..16].try_into().unwrap()) as usize;
        bytes.splice(first..first, [0u8; 7]);
        let (_dir, loc, storage, version) = local_file(&bytes).await;
        let whole = build_by(&loc, &version, &storage, 1 << 20, 1 << 20)
            .await
            .unwrap();
        assert_eq!(whole.fields.len(), 10);
        assert_eq!(whole.fields[1].offset, first as u64 + 7);
        let ranges = |i: &MessageIndex| -> Vec<(u64, u64)> {
            i.fields.iter().map(|f| (f.offset, f.length)).collect()
        };
        for window in [17, 100, 333, 1000, first as u64, first as u64 + 3] {
            let index = build_by(&loc, &version, &storage, window, 1 << 20)
                .await
                .unwrap();
            assert_eq!(ranges(&index), ranges(&whole), "window {window}");
            assert_eq!(index.grids.len(), 1);
        }
    }

    /// The parameter names read once per parameter of a file are each message's own:
    /// every field's keys equal those of its message read alone.
    #[tokio::test]
    async fn parameter_names_read_once_are_each_messages_own() {
        let bytes = super::super::testdata::mixed_levels().unwrap();
        let (_dir, loc, storage, version) = local_file(&bytes).await;
        let index = build_by(&loc, &version, &storage, 1 << 20, 1 << 20)
            .await
            .unwrap();
        let mut names = std::collections::BTreeSet::new();
        for f in &index.fields {
            let message = &bytes[f.offset as usize..(f.offset + f.length) as usize];
            let alone =
                ffi::with_message(message, |m| read_keys(m, &mut ParameterNames::default()))
                    .unwrap();
            assert_eq!(f.keys, alone, "field at byte {}", f.offset);
            if let Some(KeyValue::Text(n)) = f.keys.get("shortName") {
                names.insert(n.clone());
            }
        }
        assert_eq!(names.len(), 3, "{names:?}");
    }
}
