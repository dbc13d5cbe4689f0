//! Threads that run connections: each is a single-threaded tokio runtime, and the
//! accept loop hands each new connection to the next in turn. A connection's reads,
//! handler and writes then stay on one thread: with the work-stealing runtime, the
//! wake-ups between its workers (futexes, reschedule interrupts) were a large part of
//! a small request's cost, and one worker alone served metadata 30-50 % faster.
//! CPU-heavy work still leaves these threads (the blocking pool, rayon), so one busy
//! connection does not hold up the others on its thread. By default they take half
//! the cores: on 2 cores, two connection threads beside the decoding work served both
//! metadata and data slower than one (measured, BENCHMARKS.md).
//!
//! A job is a closure run on its thread, so that what it builds there (above all the
//! connection's socket, registered with that thread's reactor) belongs to that
//! thread: a socket accepted on another runtime stays on that runtime's reactor, and
//! every read and write readiness then crossed threads (an epoll wake-up there, an
//! eventfd write to here: half of a metadata request's cost).

use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::BoxFuture;
use tokio::sync::mpsc;

/// What a connection thread runs: it builds its future there.
pub type Job = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

pub struct ConnectionThreads {
    senders: Vec<mpsc::UnboundedSender<Job>>,
    next: AtomicUsize,
}

impl ConnectionThreads {
    /// Starts `n` threads (`0`: half the cores, at least one).
    pub fn start(n: usize) -> std::io::Result<ConnectionThreads> {
        let n = match n {
            0 => std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            n => n,
        };
        let mut senders = Vec::with_capacity(n);
        for i in 0..n {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .thread_name("datagate-conn-blocking")
                .build()?;
            let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
            std::thread::Builder::new()
                .name(format!("datagate-conn-{i}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        while let Some(job) = rx.recv().await {
                            tokio::spawn(job());
                        }
                    })
                })?;
            senders.push(tx);
        }
        Ok(ConnectionThreads {
            senders,
            next: AtomicUsize::new(0),
        })
    }

    /// Runs `job` on the next thread in turn (on the caller's runtime if that thread
    /// is gone).
    pub fn spawn(&self, job: Job) {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.senders.len();
        if let Err(mpsc::error::SendError(job)) = self.senders[i].send(job) {
            tokio::spawn(job());
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.senders.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_go_round_the_threads_and_each_runs_on_its_own() {
        let threads = ConnectionThreads::start(2).unwrap();
        assert_eq!(threads.len(), 2);
        let (tx, mut rx) = mpsc::unbounded_channel();
        for _ in 0..4 {
            let tx = tx.clone();
            threads.spawn(Box::new(move || {
                // Built on the connection thread.
                let built = std::thread::current().name().unwrap_or("").to_string();
                Box::pin(async move {
                    // Timers and spawning work on a connection thread.
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    let name = tokio::spawn(async {
                        std::thread::current().name().unwrap_or("").to_string()
                    })
                    .await
                    .unwrap();
                    assert_eq!(name, built);
                    let _ = tx.send(name);
                })
            }));
        }
        drop(tx);
        let mut names = Vec::new();
        while let Some(n) = rx.recv().await {
            names.push(n);
        }
        names.sort();
        assert_eq!(
            names,
            [
                "datagate-conn-0",
                "datagate-conn-0",
                "datagate-conn-1",
                "datagate-conn-1"
            ]
        );
    }
}
