//! A log sink that never wakes anyone per line: a request appends its formatted line
//! to a shared buffer (a lock held for one copy), and a writer thread swaps the buffer
//! out and writes it every few milliseconds, or sooner once it holds a batch.
//!
//! `tracing-appender`'s non-blocking writer sends each line through a channel whose
//! receiver sleeps when idle, so under load every line cost a futex wake-up and a
//! `write` on another thread: kernel time per metadata request comparable to a
//! whole request of the fastest DAP server. Here the writer wakes at most every
//! `PERIOD` (or when `WAKE_BYTES` are waiting) whatever the request rate.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a line may wait before it is written.
const PERIOD: Duration = Duration::from_millis(20);
/// A buffer this full wakes the writer at once.
const WAKE_BYTES: usize = 256 << 10;
/// Beyond this, lines are dropped (and counted) rather than requests slowed or
/// memory grown: a sink that cannot keep up must not take the server with it.
const MAX_PENDING_BYTES: usize = 16 << 20;

struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
    dropped: AtomicU64,
}

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    closing: bool,
}

/// The writing side, cloned into every event's writer.
#[derive(Clone)]
pub struct BatchedWriter {
    shared: Arc<Shared>,
}

/// Writes what is left and stops the writer thread when dropped (keep it until exit).
pub struct BatchGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A writer over `sink` and the guard that flushes it at exit.
pub fn batched(sink: impl Write + Send + 'static) -> (BatchedWriter, BatchGuard) {
    let shared = Arc::new(Shared {
        pending: Mutex::new(Pending::default()),
        wake: Condvar::new(),
        dropped: AtomicU64::new(0),
    });
    let thread = std::thread::Builder::new()
        .name("datagate-log".into())
        .spawn({
            let shared = shared.clone();
            move || write_loop(&shared, sink)
        })
        .ok();
    (
        BatchedWriter {
            shared: shared.clone(),
        },
        BatchGuard { shared, thread },
    )
}

fn write_loop(shared: &Shared, mut sink: impl Write) {
    // Two buffers swapped in turn: no allocation per batch once both have grown.
    let mut batch = Vec::new();
    loop {
        let closing = {
            let mut pending = shared.pending.lock().unwrap_or_else(|p| p.into_inner());
            if pending.bytes.is_empty() && !pending.closing {
                pending = shared
                    .wake
                    .wait_timeout(pending, PERIOD)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            std::mem::swap(&mut pending.bytes, &mut batch);
            pending.closing
        };
        let dropped = shared.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let _ = writeln!(
                sink,
                "datagate: {dropped} log lines dropped (the log sink fell behind)"
            );
        }
        if !batch.is_empty() {
            // A failing sink (a closed pipe) loses lines; the server goes on.
            let _ = sink.write_all(&batch);
            let _ = sink.flush();
            batch.clear();
        }
        if closing {
            return;
        }
        // Let lines gather: one write per period, not one per line.
        std::thread::sleep(PERIOD);
    }
}

impl BatchedWriter {
    fn append(&self, line: &[u8]) {
        let mut pending = self
            .shared
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if pending.bytes.len().saturating_add(line.len()) > MAX_PENDING_BYTES {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let was_below = pending.bytes.len() < WAKE_BYTES;
        pending.bytes.extend_from_slice(line);
        if was_below && pending.bytes.len() >= WAKE_BYTES {
            self.shared.wake.notify_one();
        }
    }
}

impl Write for BatchedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedWriter {
    type Writer = BatchedWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Drop for BatchGuard {
    fn drop(&mut self) {
        {
            let mut pending = self
                .shared
                .pending
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            pending.closing = true;
        }
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test can read after the writer is gone.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_reaches_the_sink_in_order_by_exit() {
        let sink = Captured::default();
        let (writer, guard) = batched(sink.clone());
        for i in 0..10_000 {
            writer
                .clone()
                .write_all(format!("line {i}\n").as_bytes())
                .unwrap();
        }
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 10_000);
        assert_eq!(lines[0], "line 0");
        assert_eq!(lines[9_999], "line 9999");
    }

    #[test]
    fn lines_are_written_without_a_flush_within_a_period() {
        let sink = Captured::default();
        let (writer, _guard) = batched(sink.clone());
        writer.clone().write_all(b"hello\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while sink.0.lock().unwrap().is_empty() {
            assert!(std::time::Instant::now() < deadline, "never written");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(&sink.0.lock().unwrap()[..], b"hello\n");
    }

    /// A sink that never returns: lines beyond the cap are dropped, memory stays
    /// bounded, and appending never blocks on the sink.
    #[test]
    fn a_stuck_sink_bounds_memory_and_never_blocks_writers() {
        struct Stuck;
        impl Write for Stuck {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                std::thread::sleep(Duration::from_secs(3600));
                Ok(0)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (writer, guard) = batched(Stuck);
        let line = vec![b'x'; 1024];
        let start = std::time::Instant::now();
        for _ in 0..(3 * MAX_PENDING_BYTES / 1024) {
            writer.clone().write_all(&line).unwrap();
        }
        assert!(start.elapsed() < Duration::from_secs(10));
        assert!(writer.shared.dropped.load(Ordering::Relaxed) > 0);
        let pending = writer.shared.pending.lock().unwrap().bytes.len();
        assert!(pending <= MAX_PENDING_BYTES, "{pending}");
        // The writer thread is stuck in the sink: drop the guard without joining it.
        let mut guard = guard;
        guard.thread.take();
    }
}
