//! The `.dap` body: the DMR chunk, then each projected variable's values read piece by
//! piece (each at most `limits.read_block_bytes`, long rows cut too) and encoded one
//! chunk (≤ 64 KiB) at a time as the client takes them, with its CRC-32 after it when
//! checksums are on. A response holds at most one piece read and one chunk encoded.
//!
//! Checksums go into the DMR, which is sent first, so they are computed before
//! streaming: small responses (up to one read block) are read once and kept encoded;
//! larger ones are read twice, the first pass only hashing. Checksums are cached by
//! (dataset version, variable, subset), so repeated requests skip the first pass.

use std::collections::HashMap;
use std::sync::Arc;

use crate::cache::{VersionKey, ViewCache};

use bytes::Bytes;
use futures::stream::{Stream, StreamExt};

use super::chunk::{Framer, MAX_PAYLOAD};
use super::encode::{encode_range, encoded_len_at};
use super::encode_user::encode_value;
use super::error::{Dap4Error, error_chunk};
use super::selection::Selection;
use crate::catalog::Dataset;
use crate::model::{Array, UserArray, Value};
use crate::subset::Hyperslab;

/// Where a variable's bytes come from while streaming.
pub enum Source {
    /// Read from the dataset while streaming.
    Read(Hyperslab),
    /// Already read and encoded (small responses with checksums).
    Encoded(Bytes),
}

/// One variable of the data response.
pub struct Part {
    pub path: String,
    pub source: Source,
    /// The checksum announced in the DMR; the streamed bytes must match it.
    pub crc: Option<u32>,
    /// A compound, vlen or opaque variable (read with `read_user`).
    pub user: bool,
    /// The fields of a compound variable sent, when projected by fields.
    pub fields: Option<Vec<usize>>,
}

/// (dataset version, variable, selection) → CRC-32 of the encoded values.
pub type CrcKey = (VersionKey, String, Hyperslab);

/// CRC-32s of encoded variables already computed, owned by the OPeNDAP service.
pub type Checksums = ViewCache<CrcKey, u32>;

/// The pieces in which `slab` of variable `path` is read, in row-major order: at most
/// `block_bytes` each (one element at least), rows longer than that cut too, so a 1-D
/// variable of gigabytes is not read at once.
pub fn pieces(ds: &Dataset, path: &str, slab: &Hyperslab, block_bytes: usize) -> Vec<Hyperslab> {
    let elem = match ds.meta.user_variable(path) {
        Some(u) => super::encode_user::min_encoded_len(&u.ty).max(64),
        None => ds
            .meta
            .variable(path)
            .and_then(|v| v.dtype.size())
            .unwrap_or(64),
    };
    slab.split_bounded((block_bytes / elem).max(1))
}

/// Plans the parts of a data response; with `checksum`, computes each variable's
/// CRC-32 first (returned by path, for the DMR).
pub async fn prepare(
    ds: &Arc<Dataset>,
    sel: &Selection<'_>,
    checksum: bool,
    block_bytes: usize,
    checksums: &Checksums,
) -> Result<(Vec<Part>, Option<HashMap<String, u32>>), Dap4Error> {
    if !checksum {
        let parts = sel
            .vars
            .iter()
            .map(|s| Part {
                path: s.var.path.clone(),
                source: Source::Read(s.slab.clone()),
                crc: None,
                user: s.user.is_some(),
                fields: s.fields.clone(),
            })
            .collect();
        return Ok((parts, None));
    }
    let small = sel.fixed_bytes().is_some_and(|n| n <= block_bytes as u64);
    let mut parts = Vec::with_capacity(sel.vars.len());
    let mut sums = HashMap::new();
    for s in &sel.vars {
        let path = s.var.path.clone();
        let key = (VersionKey::of(ds), path.clone(), s.slab.clone());
        let user = s.user.is_some();
        let (source, crc) = if small {
            let mut bytes = Vec::new();
            let mut input = read_piece(ds, &path, &s.slab, user, s.fields.as_deref()).await?;
            while !input.is_done() {
                input.encode_some(MAX_PAYLOAD, &mut bytes);
            }
            let crc = crc32fast::hash(&bytes);
            (Source::Encoded(Bytes::from(bytes)), crc)
        } else if let Some(crc) = checksums.get(&key).await {
            (Source::Read(s.slab.clone()), crc)
        } else {
            (
                Source::Read(s.slab.clone()),
                first_pass_crc(ds, &path, &s.slab, block_bytes, user, s.fields.as_deref()).await?,
            )
        };
        checksums.insert(key, crc).await;
        sums.insert(path.clone(), crc);
        parts.push(Part {
            path,
            source,
            crc: Some(crc),
            user,
            fields: s.fields.clone(),
        });
    }
    Ok((parts, Some(sums)))
}

/// The checksum of a variable's encoding, read piece by piece: memory stays at one
/// piece and one chunk, like streaming.
async fn first_pass_crc(
    ds: &Dataset,
    path: &str,
    slab: &Hyperslab,
    block_bytes: usize,
    user: bool,
    fields: Option<&[usize]>,
) -> Result<u32, Dap4Error> {
    let mut hasher = crc32fast::Hasher::new();
    let mut scratch = Vec::with_capacity(MAX_PAYLOAD);
    for piece in pieces(ds, path, slab, block_bytes) {
        let mut input = read_piece(ds, path, &piece, user, fields).await?;
        while !input.is_done() {
            scratch.clear();
            input.encode_some(MAX_PAYLOAD, &mut scratch);
            hasher.update(&scratch);
        }
    }
    Ok(hasher.finalize())
}

/// Reads one piece of a variable, as the input to encode.
async fn read_piece(
    ds: &Dataset,
    path: &str,
    piece: &Hyperslab,
    user: bool,
    fields: Option<&[usize]>,
) -> Result<Input, crate::catalog::ReadError> {
    Ok(if user {
        let mut array = ds.read_user(path, piece).await?;
        if let Some(keep) = fields {
            for v in &mut array.values {
                if let Value::Compound(all) = v {
                    let mut all: Vec<Option<Value>> =
                        std::mem::take(all).into_iter().map(Some).collect();
                    let kept = keep
                        .iter()
                        .filter_map(|i| all.get_mut(*i)?.take())
                        .collect();
                    *v = Value::Compound(kept);
                }
            }
        }
        Input::User { array, at: 0 }
    } else {
        Input::Values {
            array: ds.read(path, piece).await?,
            at: 0,
        }
    })
}

/// What is read but not yet encoded.
enum Input {
    /// A piece read, encoded from element `at` on.
    Values { array: Array, at: usize },
    /// A piece of a compound, vlen or opaque variable, encoded from element `at` on.
    User { array: UserArray, at: usize },
    /// Bytes already encoded (small responses with checksums), sent from `at` on.
    Bytes { bytes: Bytes, at: usize },
}

impl Input {
    fn is_done(&self) -> bool {
        match self {
            Input::Values { array, at } => *at >= array.len(),
            Input::User { array, at } => *at >= array.values.len(),
            Input::Bytes { bytes, at } => *at >= bytes.len(),
        }
    }

    /// Encodes about `room` more bytes (at least one element; a fixed-size element may
    /// run past `room`, a long string too) onto `out`.
    fn encode_some(&mut self, room: usize, out: &mut Vec<u8>) {
        match self {
            Input::User { array, at } => {
                let start = out.len();
                while *at < array.values.len() && (out.len() == start || out.len() - start < room) {
                    encode_value(&array.values[*at], out);
                    *at += 1;
                }
            }
            Input::Bytes { bytes, at } => {
                let end = bytes.len().min(*at + room.max(1));
                out.extend_from_slice(&bytes[*at..end]);
                *at = end;
            }
            Input::Values { array, at } => {
                let values = &array.values;
                let len = values.len();
                let end = match values.dtype().size() {
                    Some(e) if e > 0 => len.min(*at + room.div_ceil(e).max(1)),
                    _ => {
                        let (mut end, mut used) = (*at, 0);
                        while end < len && (end == *at || used < room) {
                            used += encoded_len_at(values, end);
                            end += 1;
                        }
                        end
                    }
                };
                encode_range(values, *at..end, out);
                *at = end;
            }
        }
    }
}

struct Current {
    path: String,
    /// Pieces still to read.
    pieces: std::vec::IntoIter<Hyperslab>,
    /// The piece being encoded.
    input: Option<Input>,
    crc: crc32fast::Hasher,
    expected: Option<u32>,
    /// Elements still due: the DMR promised the subset's shape.
    remaining: usize,
    /// A compound, vlen or opaque variable.
    user: bool,
    /// The fields sent of a compound variable projected by fields.
    fields: Option<Vec<usize>>,
}

enum Phase {
    Running,
    /// An error chunk was sent; the body ends with an error next, so the transfer is
    /// visibly broken for clients that ignore error chunks.
    Abort(String),
    Done,
}

struct BodyState {
    ds: Arc<Dataset>,
    head: Option<Bytes>,
    parts: std::vec::IntoIter<Part>,
    current: Option<Current>,
    framer: Framer,
    block_bytes: usize,
    phase: Phase,
    /// The most bytes ever waiting to be framed (the memory bound, for tests).
    peak_pending: usize,
}

impl BodyState {
    fn fail(&mut self, e: Dap4Error) -> Option<Result<Bytes, std::io::Error>> {
        let e = e.redacted(&self.ds);
        let chunk = error_chunk(&e);
        self.phase = Phase::Abort(e.to_string());
        Some(Ok(chunk))
    }

    /// Ends the current variable: checks and appends its checksum.
    fn end_variable(&mut self, cur: Current) -> Result<(), Dap4Error> {
        if cur.remaining != 0 {
            return Err(Dap4Error::Internal(format!(
                "{}: the reader returned {} values too few",
                cur.path, cur.remaining
            )));
        }
        if let Some(expected) = cur.expected {
            let crc = cur.crc.finalize();
            if crc != expected {
                return Err(Dap4Error::Internal(format!(
                    "{} changed while being sent (checksum {crc} instead of {expected})",
                    cur.path
                )));
            }
            self.framer.pending.extend_from_slice(&crc.to_le_bytes());
        }
        Ok(())
    }

    async fn next(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if let Some(head) = self.head.take() {
            return Some(Ok(head));
        }
        match std::mem::replace(&mut self.phase, Phase::Running) {
            Phase::Running => {}
            Phase::Abort(msg) => {
                // Pending for a moment first, so the server flushes the error chunk
                // before it drops the connection.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                self.phase = Phase::Done;
                return Some(Err(std::io::Error::other(msg)));
            }
            Phase::Done => {
                self.phase = Phase::Done;
                return None;
            }
        }
        // Each turn either sends a chunk, encodes up to one chunk, reads one piece, or
        // moves to the next variable: nothing is produced before the client asks.
        loop {
            if let Some(chunk) = self.framer.take_chunk() {
                return Some(Ok(chunk));
            }
            let Some(cur) = self.current.as_mut() else {
                let Some(part) = self.parts.next() else {
                    self.phase = Phase::Done;
                    return Some(Ok(self.framer.finish()));
                };
                self.current = Some(self.start(part));
                continue;
            };
            if let Some(input) = cur.input.as_mut() {
                let pending = &mut self.framer.pending;
                let start = pending.len();
                input.encode_some(MAX_PAYLOAD.saturating_sub(start), pending);
                if cur.expected.is_some() {
                    cur.crc.update(&pending[start..]);
                }
                self.peak_pending = self.peak_pending.max(pending.len());
                if input.is_done() {
                    cur.input = None;
                }
            } else if let Some(piece) = cur.pieces.next() {
                let read =
                    read_piece(&self.ds, &cur.path, &piece, cur.user, cur.fields.as_deref()).await;
                if let Err(e) = self.take_piece(read) {
                    return self.fail(e);
                }
            } else {
                let cur = self.current.take().expect("checked above");
                if let Err(e) = self.end_variable(cur) {
                    return self.fail(e);
                }
            }
        }
    }

    /// Starts sending a variable.
    fn start(&self, part: Part) -> Current {
        let (pieces, input, remaining) = match part.source {
            Source::Encoded(bytes) => (Vec::new(), Some(Input::Bytes { bytes, at: 0 }), 0),
            Source::Read(slab) => (
                pieces(&self.ds, &part.path, &slab, self.block_bytes),
                None,
                slab.num_elements(),
            ),
        };
        Current {
            user: part.user,
            fields: part.fields,
            path: part.path,
            pieces: pieces.into_iter(),
            input,
            crc: crc32fast::Hasher::new(),
            expected: part.crc,
            remaining,
        }
    }

    /// Takes a piece just read as the current input.
    fn take_piece(
        &mut self,
        read: Result<Input, crate::catalog::ReadError>,
    ) -> Result<(), Dap4Error> {
        let input = read?;
        let len = match &input {
            Input::Values { array, .. } => array.len(),
            Input::User { array, .. } => array.values.len(),
            Input::Bytes { .. } => 0,
        };
        let cur = self.current.as_mut().expect("a variable is being sent");
        if len > cur.remaining {
            return Err(Dap4Error::Internal(format!(
                "{}: the reader returned too many values",
                cur.path
            )));
        }
        cur.remaining -= len;
        cur.input = Some(input);
        Ok(())
    }
}

/// The body of a `.dap` response: `dmr_chunk` first, then the framed data.
pub fn body(
    ds: Arc<Dataset>,
    dmr_chunk: Vec<u8>,
    parts: Vec<Part>,
    block_bytes: usize,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let state = BodyState {
        ds,
        head: Some(Bytes::from(dmr_chunk)),
        parts: parts.into_iter(),
        current: None,
        framer: Framer::new(),
        block_bytes,
        phase: Phase::Running,
        peak_pending: 0,
    };
    // Fused: the body may be polled again after its end (compression does).
    futures::stream::unfold(state, |mut st| async move {
        let item = st.next().await?;
        Some((item, st))
    })
    .fuse()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;

    use super::*;
    use crate::catalog::ReadError;
    use crate::dap4::chunk::{self, MAX_CHUNK, dechunk};
    use crate::dap4::encode::encode_values;
    use crate::model::{ArrayValues, DataType, DatasetMeta, DimRef, Dimension, Group, Variable};
    use crate::readers::{FormatSpec, Reader, formats};
    use crate::storage::{Location, ObjectVersion};

    const SECRET: &str = "/srv/secret-archive/v.nc";

    /// A 1-D f32 variable `v` of `n` values (value = index); records the largest read;
    /// fails from the `fail_at`-th read on, with its path in the message as netCDF-C
    /// might.
    struct Recorder {
        meta: Arc<DatasetMeta>,
        reads: AtomicUsize,
        largest: AtomicUsize,
        fail_at: usize,
    }

    #[async_trait]
    impl Reader for Recorder {
        fn format(&self) -> &'static FormatSpec {
            &formats::NETCDF4_HDF5
        }
        fn metadata(&self) -> Arc<DatasetMeta> {
            self.meta.clone()
        }
        async fn read(&self, _path: &str, slab: &Hyperslab) -> Result<Array, ReadError> {
            if self.reads.fetch_add(1, Ordering::SeqCst) >= self.fail_at {
                return Err(ReadError::Format {
                    location: SECRET.into(),
                    message: format!("HDF5 error in {SECRET}"),
                });
            }
            self.largest
                .fetch_max(slab.num_elements(), Ordering::SeqCst);
            let values = slab.dims[0].indices().map(|i| i as f32).collect();
            Ok(Array::new(slab.shape(), ArrayValues::F32(values)))
        }
    }

    fn dataset(n: usize, fail_at: usize) -> (Arc<Dataset>, Arc<Recorder>) {
        let dim = DimRef {
            name: "n".into(),
            path: "/n".into(),
            len: n,
        };
        let meta = Arc::new(DatasetMeta {
            root: Group {
                path: "/".into(),
                dimensions: vec![Dimension {
                    name: "n".into(),
                    path: "/n".into(),
                    len: n,
                    unlimited: false,
                }],
                variables: vec![Variable {
                    name: "v".into(),
                    path: "/v".into(),
                    dims: vec![dim],
                    dtype: DataType::F32,
                    attributes: vec![],
                    chunks: None,
                }],
                ..Default::default()
            },
        });
        let reader = Arc::new(Recorder {
            meta: meta.clone(),
            reads: AtomicUsize::new(0),
            largest: AtomicUsize::new(0),
            fail_at,
        });
        let ds = Arc::new(Dataset {
            id: "rec".into(),
            title: "rec".into(),
            location: Location::Local(SECRET.into()),
            version: ObjectVersion {
                size: 0,
                last_modified: None,
                etag: None,
            },
            meta,
            reader: reader.clone(),
        });
        (ds, reader)
    }

    /// Sends the whole of `v`; returns the body and the state's peak buffer.
    async fn send(ds: &Arc<Dataset>, block_bytes: usize, checksum: bool) -> (Vec<u8>, usize) {
        let sel = Selection::whole(&ds.meta);
        let metrics = Arc::new(crate::metrics::Metrics::new());
        let checksums = Checksums::new("test_crc", 1 << 20, &metrics);
        let (parts, _) = prepare(ds, &sel, checksum, block_bytes, &checksums)
            .await
            .unwrap();
        let mut st = BodyState {
            ds: ds.clone(),
            head: Some(Bytes::from(
                chunk::dmr_chunk("<Dataset/>", checksum).unwrap(),
            )),
            parts: parts.into_iter(),
            current: None,
            framer: Framer::new(),
            block_bytes,
            phase: Phase::Running,
            peak_pending: 0,
        };
        let mut body = Vec::new();
        while let Some(item) = st.next().await {
            match item {
                Ok(chunk) => {
                    assert!(chunk.len() <= MAX_CHUNK);
                    body.extend_from_slice(&chunk);
                }
                Err(_) => break,
            }
        }
        (body, st.peak_pending)
    }

    #[tokio::test]
    async fn streaming_reads_bounded_pieces_and_buffers_one_chunk() {
        // 8 MB of f32 in one row, 1 MB blocks: before, the row was read whole and
        // encoded whole into the framer (8 MB buffered per response).
        let n = 2 << 20;
        let block = 1 << 20;
        for checksum in [false, true] {
            let (ds, reader) = dataset(n, usize::MAX);
            let (body, peak) = send(&ds, block, checksum).await;
            let largest = reader.largest.load(Ordering::SeqCst);
            assert!(largest * 4 <= block, "a read of {largest} values");
            assert!(peak < MAX_PAYLOAD + 4, "{peak} bytes buffered");
            let (_, data, err) = dechunk(&body).unwrap();
            assert!(err.is_none());
            let crc_len = if checksum { 4 } else { 0 };
            assert_eq!(data.len(), n * 4 + crc_len);
            let mut want = Vec::new();
            encode_values(
                &ArrayValues::F32((0..n).map(|i| i as f32).collect()),
                &mut want,
            );
            assert_eq!(&data[..n * 4], &want[..]);
            if checksum {
                assert_eq!(data[n * 4..], crc32fast::hash(&want).to_le_bytes());
            }
        }
    }

    #[tokio::test]
    async fn a_failure_mid_stream_is_an_error_chunk_without_the_path() {
        let (ds, _) = dataset(1 << 18, 2);
        let (body, _) = send(&ds, 1 << 16, false).await;
        let (_, data, err) = dechunk(&body).unwrap();
        assert!(!data.is_empty());
        let err = err.expect("an error chunk");
        // A damaged file is unreadable (503), and its path is not shown.
        assert!(err.contains("httpcode=\"503\""), "{err}");
        assert!(!err.contains("/srv"), "{err}");
        assert!(err.contains("cannot be read"), "{err}");
    }
}
