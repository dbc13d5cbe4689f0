//! Streaming a constrained selection: values are read block by block
//! (`Dataset::read_blocks`) and encoded as they arrive, so memory stays bounded by the
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

/// What an encoder sees while a selection streams.
pub enum Event<'a> {
    Start(&'a Projected, &'a Selected),
    Block(&'a Selected, &'a Array),
    End(&'a Selected),
}

/// Flush the buffer to the client at this size.
const FLUSH_BYTES: usize = 64 * 1024;

type Chunk = Result<Bytes, std::io::Error>;

/// Streams `header` and then the encoding of every selected array. Waits for the first
/// block to be read, so a dataset that cannot be read at all gives an error response
/// instead of a broken 200.
pub async fn body<E>(
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
                let path = sel.array.var.path.clone();
                let mut blocks =
                    std::pin::pin!(ds.read_blocks(&path, &sel.source_slab(), block_bytes));
                while let Some(block) = blocks.next().await {
                    match block {
                        Ok(array) => encode(Event::Block(sel, &array), &mut buf),
                        Err(e) => {
                            let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
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
        Some(Err(e)) => return Err(Dap2Error::Internal(format!("reading data: {e}"))),
        None => return Err(Dap2Error::Internal("the data stream ended early".into())),
    }
    let stream = futures::stream::iter(head).chain(rx);
    Ok(Body::from_stream(stream))
}
