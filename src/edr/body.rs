//! A streamed response body: a producer task writes into a bounded channel, so memory
//! stays bounded by one read block; an error midway aborts the body (the client sees
//! a broken response, never a complete-looking 200).

use axum::body::Body;
use bytes::Bytes;
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};

use super::error::{EdrError, EdrResult};

const FLUSH_AT: usize = 64 * 1024;

/// A piece of body and whether it is the last one, or the error that ended it.
type Msg = Result<(Bytes, bool), EdrError>;

pub struct Out {
    tx: mpsc::Sender<Msg>,
    pub buf: Vec<u8>,
}

impl Out {
    pub fn push(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// Sends the buffer once it is large enough.
    pub async fn maybe_flush(&mut self) -> EdrResult<()> {
        if self.buf.len() >= FLUSH_AT {
            self.send(false).await?;
        }
        Ok(())
    }

    async fn send(&mut self, last: bool) -> EdrResult<()> {
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .send(Ok((chunk, last)))
            .await
            .map_err(|_| EdrError::Internal("client went away".into()))
    }
}

/// Runs `produce` on its own task. An answer that fits one piece is sent whole (with
/// a length, in one write); a larger one streams. An error before the first piece is
/// returned (so it becomes a proper error response); after it, it cuts the body off.
pub async fn stream<F, Fut>(produce: F) -> EdrResult<Body>
where
    F: FnOnce(Out) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = EdrResult<Out>> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Msg>(4);
    let mut err_tx = tx.clone();
    tokio::spawn(async move {
        let out = Out {
            tx,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
        };
        match produce(out).await {
            Ok(mut out) => {
                let _ = out.send(true).await;
            }
            Err(_) if err_tx.is_closed() => {
                tracing::debug!("edr: client went away before the end of the response");
            }
            Err(e) => {
                let _ = err_tx.send(Err(e)).await;
            }
        }
    });
    match rx.next().await {
        None => Err(EdrError::Internal("the answer ended without output".into())),
        Some(Err(e)) => Err(e),
        Some(Ok((first, true))) => Ok(Body::from(first)),
        Some(Ok((first, false))) => {
            // Ends when the producer task ends (its senders are dropped).
            let rest = rx.map(|m| match m {
                Ok((b, _)) => Ok(b),
                Err(e) => {
                    tracing::error!("edr: response failed midway: {e}");
                    Err(std::io::Error::other(e.to_string()))
                }
            });
            Ok(Body::from_stream(
                futures::stream::once(futures::future::ready(Ok(first))).chain(rest),
            ))
        }
    }
}

/// Appends a number as JSON (`null` for NaN/infinite): shortest round-trip text, in
/// single precision when the data are.
pub fn push_number(buf: &mut Vec<u8>, v: f64, single: bool, integer: bool) {
    use std::io::Write;
    if !v.is_finite() {
        buf.extend_from_slice(b"null");
    } else if integer {
        let _ = write!(buf, "{}", v as i64);
    } else if single {
        let f = v as f32;
        if f.fract() == 0.0 && f.abs() < 1e15 {
            let _ = write!(buf, "{f:.1}");
        } else {
            let _ = write!(buf, "{f}");
        }
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(buf, "{v:.1}");
    } else {
        let _ = write!(buf, "{v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut b = Vec::new();
        for (v, s, i) in [
            (299.75, true, false),
            (f64::NAN, true, false),
            (3.0, false, true),
            (0.1f32 as f64, true, false),
            (2.0, false, false),
        ] {
            push_number(&mut b, v, s, i);
            b.push(b',');
        }
        assert_eq!(String::from_utf8(b).unwrap(), "299.75,null,3,0.1,2.0,");
    }
}
