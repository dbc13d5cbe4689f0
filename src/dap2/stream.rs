//! Streaming a constrained selection: values are read block by block (`pieces`, each
//! read only when the previous one is encoded and queued) and encoded as they arrive, so memory stays bounded by the
//! block size whatever the response size. A read failing midway aborts the body, so
//! the client sees a broken response, never a complete-looking one.

use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};

use super::error::Dap2Error;
use super::selection::{Projected, Selected};
use crate::catalog::Dataset;
use crate::model::Array;
use crate::subset::Hyperslab;

/// What an encoder sees while a selection streams.
pub enum Event<'a> {
    Start(&'a Projected, &'a Selected),
    Block(&'a Selected, &'a Array),
    End(&'a Selected),
}

/// The selection of `sel` over its model variable in consecutive pieces of about
/// `block_bytes`, in row-major order. Long rows are cut too (a 1-D variable of 2 GB is
/// not read at once), except the characters of a char variable's strings.
pub fn pieces(sel: &Selected, block_bytes: usize) -> Vec<Hyperslab> {
    let elem = sel.array.var.dtype.size().unwrap_or(64);
    let max = (block_bytes / elem).max(1);
    let slab = sel.source_slab();
    if sel.array.char_len.is_some() {
        slab.split(max)
    } else {
        slab.split_bounded(max)
    }
}

/// Flush the buffer to the client at this size.
const FLUSH_BYTES: usize = 64 * 1024;

type Chunk = Result<Bytes, Dap2Error>;

/// Streams `header` and then the encoding of every selected array. Waits for the first
/// block to be read, so a dataset that cannot be read at all gives an error response
/// instead of a broken 200. `exact` is the answer's size when known: one of at most
/// `block_bytes` is encoded in place and sent whole (no producer task, no channel: for
/// a small subset, their wake-ups cost more than the copying).
pub async fn body<E>(
    ds: Arc<Dataset>,
    projected: Vec<Projected>,
    header: Vec<u8>,
    block_bytes: usize,
    exact: Option<u64>,
    encode: E,
) -> Result<Body, Dap2Error>
where
    E: FnMut(Event<'_>, &mut Vec<u8>) + Send + 'static,
{
    match exact {
        Some(n) if n <= block_bytes as u64 => {
            whole(&ds, &projected, header, n as usize, block_bytes, encode).await
        }
        _ => streamed(ds, projected, header, block_bytes, encode).await,
    }
}

/// The whole answer in one buffer of its exact size: for answers of at most one block.
async fn whole<E>(
    ds: &Dataset,
    projected: &[Projected],
    header: Vec<u8>,
    size: usize,
    block_bytes: usize,
    mut encode: E,
) -> Result<Body, Dap2Error>
where
    E: FnMut(Event<'_>, &mut Vec<u8>),
{
    let mut buf = header;
    buf.reserve_exact(size.saturating_sub(buf.len()));
    for p in projected {
        for sel in p.members() {
            encode(Event::Start(p, sel), &mut buf);
            for piece in pieces(sel, block_bytes) {
                let array = ds.read(&sel.array.var.path, &piece).await?;
                encode(Event::Block(sel, &array), &mut buf);
            }
            encode(Event::End(sel), &mut buf);
        }
    }
    Ok(Body::from(buf))
}

async fn streamed<E>(
    ds: Arc<Dataset>,
    projected: Vec<Projected>,
    header: Vec<u8>,
    block_bytes: usize,
    mut encode: E,
) -> Result<Body, Dap2Error>
where
    E: FnMut(Event<'_>, &mut Vec<u8>) + Send + 'static,
{
    let (mut tx, mut rx) = mpsc::channel::<Chunk>(2);
    tokio::spawn(async move {
        let mut buf = header;
        let mut first = true;
        for p in &projected {
            for sel in p.members() {
                encode(Event::Start(p, sel), &mut buf);
                let path = &sel.array.var.path;
                for piece in pieces(sel, block_bytes) {
                    match ds.read(path, &piece).await {
                        Ok(array) => encode(Event::Block(sel, &array), &mut buf),
                        Err(e) => {
                            let _ = tx.send(Err(Dap2Error::from(e))).await;
                            return;
                        }
                    }
                    if first || buf.len() >= FLUSH_BYTES {
                        first = false;
                        if tx
                            .send(Ok(Bytes::from(std::mem::take(&mut buf))))
                            .await
                            .is_err()
                        {
                            return; // the client went away
                        }
                    }
                }
                encode(Event::End(sel), &mut buf);
            }
        }
        if !buf.is_empty() {
            let _ = tx.send(Ok(Bytes::from(buf))).await;
        }
    });
    let mut head = Vec::new();
    match rx.next().await {
        Some(Ok(b)) => head.push(Ok(b)),
        Some(Err(e)) => return Err(e),
        None => return Err(Dap2Error::Internal("the data stream ended early".into())),
    }
    let stream = futures::stream::iter(head)
        .chain(rx)
        .map(|c| c.map_err(|e| std::io::Error::other(e.to_string())));
    Ok(Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;

    use super::*;
    use crate::catalog::{FormatSpec, ReadError, Reader, formats};
    use crate::dap2::schema::Schema;
    use crate::dap2::selection::select;
    use crate::model::{ArrayValues, DataType, DatasetMeta, DimRef, Dimension, Group, Variable};
    use crate::storage::{Location, ObjectVersion};

    /// Serves a 1-D f32 variable; fails from the `fail_at`-th read on.
    struct Flaky {
        meta: Arc<DatasetMeta>,
        reads: AtomicUsize,
        fail_at: usize,
    }

    #[async_trait]
    impl Reader for Flaky {
        fn format(&self) -> &'static FormatSpec {
            &formats::NETCDF4_HDF5
        }
        fn metadata(&self) -> Arc<DatasetMeta> {
            self.meta.clone()
        }
        async fn read(&self, _path: &str, slab: &Hyperslab) -> Result<Array, ReadError> {
            if self.reads.fetch_add(1, Ordering::SeqCst) >= self.fail_at {
                return Err(ReadError::Internal("disk on fire".into()));
            }
            Ok(Array::new(
                slab.shape(),
                ArrayValues::F32(vec![1.0; slab.num_elements()]),
            ))
        }
    }

    fn dataset(fail_at: usize) -> Arc<Dataset> {
        let n = 1000;
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
        Arc::new(Dataset {
            id: "flaky".into(),
            title: "flaky".into(),
            location: Location::Local("/nonexistent".into()),
            version: ObjectVersion {
                size: 0,
                last_modified: None,
                etag: None,
            },
            meta: meta.clone(),
            reader: Arc::new(Flaky {
                meta,
                reads: AtomicUsize::new(0),
                fail_at,
            }),
        })
    }

    fn noop(_: Event<'_>, _: &mut Vec<u8>) {}

    async fn run(fail_at: usize) -> Result<Vec<Result<Bytes, String>>, Dap2Error> {
        let ds = dataset(fail_at);
        let projected = select(&Schema::build(&ds.meta), &Default::default()).unwrap();
        // 100 elements per block: 10 reads for the whole (1-D) variable.
        let body = body(ds, projected, b"head".to_vec(), 400, None, noop).await?;
        let mut stream = body.into_data_stream();
        let mut out = Vec::new();
        while let Some(item) = stream.next().await {
            out.push(item.map_err(|e| e.to_string()));
        }
        Ok(out)
    }

    #[tokio::test]
    async fn a_failure_midway_ends_the_body_with_an_error() {
        let chunks = run(5).await.unwrap();
        assert!(chunks[0].is_ok());
        assert!(chunks.last().unwrap().is_err(), "{chunks:?}");
    }

    #[tokio::test]
    async fn a_failure_before_any_data_is_an_error_response() {
        assert!(run(0).await.is_err());
        let all = run(usize::MAX).await.unwrap();
        assert!(all.iter().all(|c| c.is_ok()));
    }

    /// An answer of at most one block is sent whole, with the same bytes as streamed;
    /// a read failing anywhere in it is an error response, never a short body.
    #[tokio::test]
    async fn a_small_answer_is_sent_whole_with_the_streamed_bytes() {
        fn count(e: Event<'_>, out: &mut Vec<u8>) {
            if let Event::Block(_, a) = e {
                out.extend(std::iter::repeat_n(7u8, a.values.len()));
            }
        }
        let ds = dataset(usize::MAX);
        let projected = select(&Schema::build(&ds.meta), &Default::default()).unwrap();
        let streamed = body(
            ds.clone(),
            projected.clone(),
            b"h".to_vec(),
            400,
            None,
            count,
        )
        .await
        .unwrap();
        let whole = body(ds, projected, b"h".to_vec(), 4000, Some(1001), count)
            .await
            .unwrap();
        let streamed = axum::body::to_bytes(streamed, usize::MAX).await.unwrap();
        let whole = axum::body::to_bytes(whole, usize::MAX).await.unwrap();
        assert_eq!(streamed.len(), 1001);
        assert_eq!(streamed, whole);

        let ds = dataset(3);
        let projected = select(&Schema::build(&ds.meta), &Default::default()).unwrap();
        assert!(
            body(ds, projected, b"h".to_vec(), 400, Some(400), count)
                .await
                .is_err()
        );
    }
}
