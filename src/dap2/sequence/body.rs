//! The data answer of a sequence, streamed: rows are encoded on the blocking pool
//! and sent in pieces of about 64 KiB through a bounded channel, so memory stays
//! bounded whatever the answer's size. The DDS header travels with the first piece: a
//! failure before it becomes a proper DAP2 error; a failure after it cuts the body
//! off (the client sees a broken response, never a complete-looking 200).

use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::super::das::escape_string;
use super::super::error::Dap2Error;
use super::table::{Cell, RowSink};

const FLUSH_AT: usize = 64 * 1024;
const START_OF_INSTANCE: [u8; 4] = [0x5A, 0, 0, 0];
/// Written after the last row of a `.dods` answer.
pub const END_OF_SEQUENCE: [u8; 4] = [0xA5, 0, 0, 0];

type Msg = Result<Bytes, Dap2Error>;

/// Rows encoded as XDR (`.dods`) or text (`.ascii`), sent as they fill up.
pub struct Streamed {
    binary: bool,
    buf: Vec<u8>,
    sent: usize,
    tx: mpsc::Sender<Msg>,
}

fn xdr_row(out: &mut Vec<u8>, cells: &[Cell<'_>]) {
    out.extend_from_slice(&START_OF_INSTANCE);
    for c in cells {
        match c {
            Cell::Num(v) => out.extend_from_slice(&v.to_be_bytes()),
            Cell::Single(v) => out.extend_from_slice(&v.to_be_bytes()),
            Cell::Text(s) => {
                let b = s.as_bytes();
                out.extend_from_slice(&(b.len() as u32).to_be_bytes());
                out.extend_from_slice(b);
                out.resize(out.len() + (4 - b.len() % 4) % 4, 0);
            }
        }
    }
}

fn ascii_row(out: &mut Vec<u8>, cells: &[Cell<'_>]) {
    use std::io::Write;
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        let _ = match c {
            Cell::Num(v) => write!(out, "{v}"),
            Cell::Single(v) => write!(out, "{v}"),
            Cell::Text(s) => write!(out, "\"{}\"", escape_string(s)),
        };
    }
    out.push(b'\n');
}

impl Streamed {
    fn send(&mut self) -> Result<(), Dap2Error> {
        let piece = Bytes::from(std::mem::take(&mut self.buf));
        self.sent += piece.len();
        // Called from inside the runtime's `block_on` on a blocking-pool thread, where
        // tokio's `blocking_send` refuses to run: wait with a plain executor instead.
        futures::executor::block_on(self.tx.send(Ok(piece)))
            .map_err(|_| Dap2Error::Internal("client went away".into()))
    }
}

impl RowSink for Streamed {
    fn row(&mut self, cells: &[Cell<'_>]) {
        if self.binary {
            xdr_row(&mut self.buf, cells);
        } else {
            ascii_row(&mut self.buf, cells);
        }
    }

    fn len(&self) -> usize {
        self.sent + self.buf.len()
    }

    fn flush(&mut self) -> Result<(), Dap2Error> {
        if self.buf.len() >= FLUSH_AT {
            self.send()?;
        }
        Ok(())
    }
}

/// Runs `produce` on the blocking pool with a sink that starts with `header` and ends
/// with `trailer`; answers the body once the first piece (or the error) is known.
pub async fn stream<F>(
    header: Vec<u8>,
    trailer: Vec<u8>,
    binary: bool,
    produce: F,
) -> Result<Body, Dap2Error>
where
    F: FnOnce(&mut Streamed) -> Result<(), Dap2Error> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Msg>(4);
    tokio::task::spawn_blocking(move || {
        let mut sink = Streamed {
            binary,
            buf: header,
            sent: 0,
            tx: tx.clone(),
        };
        let done = produce(&mut sink).and_then(|()| {
            sink.buf.extend_from_slice(&trailer);
            sink.send()
        });
        if let Err(e) = done
            && !tx.is_closed()
        {
            let _ = tx.blocking_send(Err(e));
        }
    });
    match rx.recv().await {
        None => Err(Dap2Error::Internal(
            "the answer ended without output".into(),
        )),
        Some(Err(e)) => Err(e),
        Some(Ok(first)) => {
            // `poll_recv` keeps answering "ended" once the channel is done, however
            // often the body is polled.
            let rest = futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).map(|m| {
                m.map_err(|e| {
                    tracing::error!("dap2: sequence failed midway: {e}");
                    std::io::Error::other(e.to_string())
                })
            });
            Ok(Body::from_stream(
                futures::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(rest),
            ))
        }
    }
}
