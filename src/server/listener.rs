//! The accept loop: every connection must send its request head within
//! `server.header_timeout_secs` (slow or half-sent heads, and idle keep-alive
//! connections, are dropped), at most `server.max_connections` are open at once, and
//! each request learns its peer address (for `server.trusted_proxies`). Connections are
//! served on `server.connection_threads` single-threaded runtimes, in turn. SIGTERM or
//! Ctrl-C stop accepting; in-flight requests finish.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::connection_threads::ConnectionThreads;
use super::replay::Replay;
use crate::config::ServerConfig;

/// Largest request head hyper buffers; past it hyper itself answers 431 (an empty
/// body). Large enough that any URL up to this size reaches the guards, which refuse
/// URLs over `server.max_url_bytes` with a 414 in the protocol's form; buffers grow
/// only with what a client sends, and the header time-out bounds how long.
const MAX_HEAD_BYTES: usize = 256 << 10;

pub async fn accept_loop(
    app: Router,
    replay: Arc<Replay>,
    listener: TcpListener,
    config: &ServerConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(config.header_timeout_secs.max(1)))
        .max_buf_size(MAX_HEAD_BYTES.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(config.header_timeout_secs.max(1))));
    let builder = Arc::new(builder);
    let threads = ConnectionThreads::start(config.connection_threads)?;
    let connections = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // Past the cap, stop accepting: new connections wait in the kernel's queue.
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // Small responses written in pieces would otherwise wait for the client's
        // delayed ACK (Nagle): ~25 ms per request.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::warn!("TCP_NODELAY: {e}");
        }
        // Handed over unregistered: the connection thread registers it with its own
        // reactor (see `connection_threads`).
        let stream = match stream.into_std() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("connection from {peer}: {e}");
                continue;
            }
        };
        let (app, builder, watcher) = (app.clone(), builder.clone(), graceful.watcher());
        let replay = replay.clone();
        threads.spawn(Box::new(move || {
            Box::pin(async move {
                let stream = match tokio::net::TcpStream::from_std(stream) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!("connection from {peer}: {e}");
                        return;
                    }
                };
                let service =
                    hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                        req.extensions_mut().insert(ConnectInfo(peer));
                        let (app, replay) = (app.clone(), replay.clone());
                        async move {
                            replay
                                .serve(req.map(axum::body::Body::new), peer, app)
                                .await
                        }
                    });
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                if let Err(e) = watcher.watch(conn.into_owned()).await {
                    tracing::debug!("connection from {peer}: {e}");
                }
                drop(permit);
            })
        }));
    }
    drop(listener);
    // In-flight requests finish, within the request time-out.
    let _ = tokio::time::timeout(
        Duration::from_secs(config.request_timeout_secs.max(1)),
        graceful.shutdown(),
    )
    .await;
    Ok(())
}
