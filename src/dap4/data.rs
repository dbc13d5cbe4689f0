//! The `.dap` body: the DMR chunk, then each projected variable's values read block by
//! block (memory bounded by `limits.read_block_bytes`), framed into chunks, with its
//! CRC-32 after it when checksums are on.
//!
//! Checksums go into the DMR, which is sent first, so they are computed before
//! streaming: small responses (up to one read block) are read once and kept encoded;
//! larger ones are read twice, the first pass only hashing. Checksums are cached by
//! (dataset version, variable, subset), so repeated requests skip the first pass.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use futures::stream::{BoxStream, Stream, StreamExt};

use super::chunk::Framer;
use super::encode::encode_values;
use super::error::{Dap4Error, error_chunk};
use super::selection::Selection;
use crate::catalog::Dataset;
use crate::catalog::ReadError;
use crate::model::Array;
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
}

type CrcKey = (String, String, String, Hyperslab);

/// CRC-32s of whole encoded variables already computed (4 bytes each, plus the key).
fn crc_cache() -> &'static moka::sync::Cache<CrcKey, u32> {
    static CACHE: OnceLock<moka::sync::Cache<CrcKey, u32>> = OnceLock::new();
    CACHE.get_or_init(|| moka::sync::Cache::new(100_000))
}

/// Plans the parts of a data response; with `checksum`, computes each variable's
/// CRC-32 first (returned by path, for the DMR).
pub async fn prepare(
    ds: &Arc<Dataset>,
    sel: &Selection<'_>,
    checksum: bool,
    block_bytes: usize,
) -> Result<(Vec<Part>, Option<HashMap<String, u32>>), Dap4Error> {
    if !checksum {
        let parts = sel
            .vars
            .iter()
            .map(|s| Part {
                path: s.var.path.clone(),
                source: Source::Read(s.slab.clone()),
                crc: None,
            })
            .collect();
        return Ok((parts, None));
    }
    let small = sel.fixed_bytes() <= block_bytes as u64;
    let etag = ds.etag();
    let mut parts = Vec::with_capacity(sel.vars.len());
    let mut sums = HashMap::new();
    for s in &sel.vars {
        let path = s.var.path.clone();
        let key = (ds.id.clone(), etag.clone(), path.clone(), s.slab.clone());
        let (source, crc) = if small {
            let array = ds.read(&path, &s.slab).await?;
            let mut bytes = Vec::new();
            encode_values(&array.values, &mut bytes);
            let crc = crc32fast::hash(&bytes);
            (Source::Encoded(Bytes::from(bytes)), crc)
        } else if let Some(crc) = crc_cache().get(&key) {
            (Source::Read(s.slab.clone()), crc)
        } else {
            let mut hasher = crc32fast::Hasher::new();
            let mut scratch = Vec::new();
            let mut blocks = std::pin::pin!(ds.read_blocks(&path, &s.slab, block_bytes));
            while let Some(block) = blocks.next().await {
                scratch.clear();
                encode_values(&block?.values, &mut scratch);
                hasher.update(&scratch);
            }
            (Source::Read(s.slab.clone()), hasher.finalize())
        };
        crc_cache().insert(key, crc);
        sums.insert(path.clone(), crc);
        parts.push(Part {
            path,
            source,
            crc: Some(crc),
        });
    }
    Ok((parts, Some(sums)))
}

struct Current {
    path: String,
    blocks: BoxStream<'static, Result<Array, ReadError>>,
    crc: crc32fast::Hasher,
    expected: Option<u32>,
    /// Elements still due: the DMR promised the subset's shape.
    remaining: usize,
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
    /// Framed chunks waiting to be sent.
    ready: VecDeque<Bytes>,
    block_bytes: usize,
    phase: Phase,
}

impl BodyState {
    fn fail(&mut self, e: Dap4Error) -> Option<Result<Bytes, std::io::Error>> {
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
        if let Some(chunk) = self.ready.pop_front() {
            return Some(Ok(chunk));
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
        loop {
            if self.current.is_none() {
                let Some(part) = self.parts.next() else {
                    self.phase = Phase::Done;
                    return Some(Ok(self.framer.finish()));
                };
                match part.source {
                    Source::Encoded(bytes) => {
                        self.framer.pending.extend_from_slice(&bytes);
                        if let Some(crc) = part.crc {
                            self.framer.pending.extend_from_slice(&crc.to_le_bytes());
                        }
                    }
                    Source::Read(slab) => {
                        let blocks = self.ds.read_blocks(&part.path, &slab, self.block_bytes);
                        self.current = Some(Current {
                            path: part.path,
                            blocks: blocks.boxed(),
                            crc: crc32fast::Hasher::new(),
                            expected: part.crc,
                            remaining: slab.num_elements(),
                        });
                    }
                }
            } else {
                let cur = self.current.as_mut().expect("checked above");
                match cur.blocks.next().await {
                    Some(Ok(array)) => {
                        if array.len() > cur.remaining {
                            let e = format!("{}: the reader returned too many values", cur.path);
                            return self.fail(Dap4Error::Internal(e));
                        }
                        cur.remaining -= array.len();
                        let start = self.framer.pending.len();
                        encode_values(&array.values, &mut self.framer.pending);
                        if cur.expected.is_some() {
                            cur.crc.update(&self.framer.pending[start..]);
                        }
                    }
                    Some(Err(e)) => return self.fail(e.into()),
                    None => {
                        let cur = self.current.take().expect("checked above");
                        if let Err(e) = self.end_variable(cur) {
                            return self.fail(e);
                        }
                    }
                }
            }
            self.framer.take_full(&mut self.ready);
            if let Some(chunk) = self.ready.pop_front() {
                return Some(Ok(chunk));
            }
        }
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
        ready: VecDeque::new(),
        block_bytes,
        phase: Phase::Running,
    };
    // Fused: the body may be polled again after its end (compression does).
    futures::stream::unfold(state, |mut st| async move {
        let item = st.next().await?;
        Some((item, st))
    })
    .fuse()
}
