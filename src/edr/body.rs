//! A streamed response body: a producer task writes into a bounded channel, so memory
//! stays bounded by one read block; an error midway aborts the body (the client sees
//! a broken response, never a complete-looking 200).

use axum::body::Body;
use bytes::Bytes;
use futures::SinkExt;
use futures::channel::mpsc;

use super::error::EdrResult;

const FLUSH_AT: usize = 64 * 1024;

pub struct Out {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    pub buf: Vec<u8>,
}

impl Out {
    pub fn push(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// Sends the buffer once it is large enough.
    pub async fn maybe_flush(&mut self) -> EdrResult<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    pub async fn flush(&mut self) -> EdrResult<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .send(Ok(chunk))
            .await
            .map_err(|_| super::error::EdrError::Internal("client went away".into()))
    }
}

/// Runs `produce` on its own task, streaming what it writes.
pub fn stream<F, Fut>(produce: F) -> Body
where
    F: FnOnce(Out) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = EdrResult<Out>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(4);
    let mut err_tx = tx.clone();
    tokio::spawn(async move {
        let out = Out {
            tx,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
        };
        match produce(out).await {
            Ok(mut out) => {
                let _ = out.flush().await;
            }
            Err(_) if err_tx.is_closed() => {
                tracing::debug!("edr: client went away before the end of the response");
            }
            Err(e) => {
                tracing::error!("edr: response failed midway: {e}");
                let _ = err_tx.send(Err(std::io::Error::other(e.to_string()))).await;
            }
        }
    });
    Body::from_stream(rx)
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
