//! Serving HTTP connections with bounds against slow and idle clients (slowloris): a cap
//! on open connections (further ones wait in the listen backlog, so the process never runs
//! out of file descriptors), a timeout on reading a request's headers (hyper's own, and
//! ours for a socket that has not sent its first request: hyper's protocol detection has no
//! timeout), and an idle timeout that closes a kept-alive connection with no request in
//! flight and no bytes moving. While the cap is reached, connections idle for
//! [`PRESSURE_IDLE`] are closed at once, so idle sockets cannot keep new clients (and
//! `/healthz`) waiting in the backlog. Shutdown lets requests in flight finish.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// How connections are bounded.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// How long shutdown waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(30);
/// While every connection slot is taken, a connection idle this long is closed.
pub const PRESSURE_IDLE: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` within `limits` until `shutdown` resolves, then drains.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(max));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (pressure_tx, pressure_rx) = watch::channel(false);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        if permits.available_permits() == 0 {
            pressure_tx.send_if_modified(|p| !std::mem::replace(p, true));
        }
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        if permits.available_permits() > 0 {
            pressure_tx.send_if_modified(|p| std::mem::replace(p, false));
        }
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: back off briefly.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        metrics::gauge!("motcua_http_connections_open").increment(1.0);
        let _ = stream.set_nodelay(true);
        let builder = builder.clone();
        let router = router.clone();
        let signals = Signals { stop: stop_rx.clone(), pressure: pressure_rx.clone() };
        tokio::spawn(async move {
            serve_one(&builder, router, stream, peer, limits, signals).await;
            metrics::gauge!("motcua_http_connections_open").decrement(1.0);
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN, permits.acquire_many(all)).await.is_err() {
        tracing::warn!("connections still open after the drain period: closing them");
    }
    Ok(())
}

/// What the accept loop tells every connection: shut down; every slot is taken.
struct Signals {
    stop: watch::Receiver<bool>,
    pressure: watch::Receiver<bool>,
}

async fn serve_one(
    builder: &auto::Builder<TokioExecutor>,
    router: Router,
    stream: TcpStream,
    peer: SocketAddr,
    limits: ConnectionLimits,
    signals: Signals,
) {
    let Signals { mut stop, mut pressure } = signals;
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked { inner: stream, activity: activity.clone() });
    let service = {
        let activity = activity.clone();
        tower::service_fn(move |mut req: hyper::Request<Incoming>| {
            let router = router.clone();
            let in_flight = InFlight::enter(&activity);
            async move {
                req.extensions_mut().insert(ConnectInfo(peer));
                let response = router.oneshot(req).await;
                drop(in_flight);
                response
            }
        })
    };
    let connection = builder.serve_connection(io, TowerToHyperService::new(service));
    let mut connection = std::pin::pin!(connection);
    let mut stopping = false;
    let mut pressure_open = true;
    let allowed_idle = |activity: &Activity, pressed: bool| {
        if pressed {
            PRESSURE_IDLE
        } else if activity.served.load(Ordering::Acquire) {
            limits.idle_timeout
        } else {
            limits.header_read_timeout
        }
    };
    loop {
        let pressed = *pressure.borrow_and_update();
        let idle = allowed_idle(&activity, pressed);
        // Wake at the deadline, or sooner: the first request switches from the header
        // timeout to the idle timeout without waking this loop.
        let shortest = limits.idle_timeout.min(limits.header_read_timeout).max(Duration::from_millis(100));
        let deadline = activity.idle_deadline(idle).min(Instant::now() + shortest);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                return;
            }
            () = tokio::time::sleep_until(deadline) => {
                let idle = allowed_idle(&activity, *pressure.borrow());
                if activity.in_flight() == 0 && activity.idle_deadline(idle) <= Instant::now() {
                    tracing::debug!(%peer, "closing an idle connection");
                    metrics::counter!("motcua_http_connections_idle_closed_total").increment(1);
                    return;
                }
            }
            changed = pressure.changed(), if pressure_open => {
                // An error means the accept loop is gone (shutting down): the stop signal follows.
                pressure_open = changed.is_ok();
            }
            changed = stop.changed(), if !stopping => {
                let _ = changed;
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// When a connection last moved a byte, and how many of its requests are being served.
#[derive(Debug)]
struct Activity {
    origin: Instant,
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
    /// A request has been received (from then on the keep-alive idle timeout applies).
    served: AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Activity {
            origin: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            served: AtomicBool::new(false),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn idle_deadline(&self, idle: Duration) -> Instant {
        self.origin + Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + idle
    }

    fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }
}

/// A request being served on a connection (so it is never closed as idle meanwhile).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn enter(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.served.store(true, Ordering::Release);
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket that records its activity.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
