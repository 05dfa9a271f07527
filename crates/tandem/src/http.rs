//! The HTTP API listener: HTTP/1.1 over hyper with the bounds a public listener needs —
//! connections counted in all and per client address, a deadline for each request head, for
//! each request body and for idle connections — and a graceful stop.

use axum::body::Body;
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// The bounds of the API listener (`--api-*` flags).
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    pub max_connections: usize,
    pub max_per_client: usize,
    /// From the first byte of a request to the end of its headers.
    pub header_timeout: Duration,
    /// From the end of a request's headers to the end of its body.
    pub body_timeout: Duration,
    /// With no request under way and nothing moving on the connection.
    pub idle_timeout: Duration,
}

/// How long a stop waits for requests under way before dropping their connections.
const GRACE: Duration = Duration::from_secs(5);

/// Least time between two log lines about refused connections.
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets requests
/// under way finish (for at most [`GRACE`]) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) {
    let counts = Arc::new(Counts::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut refusals = Refusals::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors (EMFILE) or a connection reset before we took it: wait a
                // little rather than spin on an error that repeats at once.
                refusals.accept_failed(&e);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = Slot::take(&counts, peer.ip(), &limits) else {
            // Dropping the stream closes it before anything is read from it.
            refusals.refused(peer.ip(), &limits);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            stream,
            peer,
            app.clone(),
            limits,
            stop_rx.clone(),
            slot,
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let deadline = Instant::now() + GRACE;
    while counts.total() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Open connections, in all and per client address.
#[derive(Default)]
struct Counts {
    inner: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

impl Counts {
    fn total(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).0
    }
}

/// One counted connection; uncounted on drop.
struct Slot {
    counts: Arc<Counts>,
    ip: IpAddr,
}

impl Slot {
    fn take(counts: &Arc<Counts>, ip: IpAddr, limits: &HttpLimits) -> Option<Slot> {
        let mut guard = counts.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (total, per_client) = &mut *guard;
        let mine = per_client.get(&ip).copied().unwrap_or(0);
        if *total >= limits.max_connections || mine >= limits.max_per_client {
            return None;
        }
        *total += 1;
        per_client.insert(ip, mine + 1);
        Some(Slot {
            counts: counts.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut guard = self.counts.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (total, per_client) = &mut *guard;
        *total -= 1;
        if let Some(n) = per_client.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_client.remove(&self.ip);
            }
        }
    }
}

/// Logs refused connections and failed accepts at most once per [`REFUSAL_LOG_INTERVAL`]: a
/// flood must not turn into a flood of log lines.
#[derive(Default)]
struct Refusals {
    last: Option<Instant>,
    refused: u64,
    failed: u64,
}

impl Refusals {
    fn due(&mut self) -> bool {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < REFUSAL_LOG_INTERVAL)
        {
            return false;
        }
        self.last = Some(now);
        true
    }

    fn refused(&mut self, ip: IpAddr, limits: &HttpLimits) {
        self.refused += 1;
        if self.due() {
            tracing::warn!(
                client = %ip,
                refused = std::mem::take(&mut self.refused),
                max_connections = limits.max_connections,
                max_per_client = limits.max_per_client,
                "API connections closed at once: connection limit reached"
            );
        }
    }

    fn accept_failed(&mut self, e: &std::io::Error) {
        self.failed += 1;
        if self.due() {
            tracing::warn!(
                error = %e,
                failed = std::mem::take(&mut self.failed),
                "API accept failed"
            );
        }
    }
}

/// What a connection is doing, for its deadlines.
struct Activity {
    state: Mutex<State>,
}

struct State {
    /// Requests whose handler has not answered yet.
    handling: usize,
    /// Answers whose body is still being sent.
    responding: usize,
    /// The last time bytes were read or written.
    last_io: Instant,
    /// The last time the connection fell idle (opened, or sent its last answer).
    idle_since: Instant,
    /// The first byte of a request head that is not complete yet.
    head_started: Option<Instant>,
}

impl Activity {
    fn new() -> Arc<Activity> {
        let now = Instant::now();
        Arc::new(Activity {
            state: Mutex::new(State {
                handling: 0,
                responding: 0,
                last_io: now,
                idle_since: now,
                head_started: None,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn moved(&self, read: bool) {
        let now = Instant::now();
        let mut s = self.lock();
        s.last_io = now;
        if read && s.handling == 0 && s.responding == 0 && s.head_started.is_none() {
            s.head_started = Some(now);
        }
    }

    /// Why the connection should be closed now, if it should.
    fn expired(&self, limits: &HttpLimits) -> Option<&'static str> {
        let now = Instant::now();
        let s = self.lock();
        if s.handling > 0 {
            // The handler runs; its body read has its own deadline ([`DeadlineBody`]).
            None
        } else if s.responding > 0 {
            (now.duration_since(s.last_io) > limits.idle_timeout)
                .then_some("the client does not take the answer")
        } else if let Some(t) = s.head_started {
            (now.duration_since(t) > limits.header_timeout)
                .then_some("request head not received in time")
        } else {
            (now.duration_since(s.idle_since) > limits.idle_timeout).then_some("idle")
        }
    }
}

/// A request from its head until its handler answers.
struct Handling(Arc<Activity>);

impl Handling {
    fn start(activity: &Arc<Activity>) -> Handling {
        let mut s = activity.lock();
        s.handling += 1;
        s.head_started = None;
        drop(s);
        Handling(activity.clone())
    }

    /// The handler answered: the answer's body is being sent from now on.
    fn answered(self) -> Responding {
        let mut s = self.0.lock();
        s.responding += 1;
        drop(s);
        Responding(self.0.clone())
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.handling -= 1;
        settle(&mut s);
    }
}

/// An answer whose body is being sent; done when hyper drops the body.
struct Responding(Arc<Activity>);

impl Drop for Responding {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.responding -= 1;
        settle(&mut s);
    }
}

fn settle(s: &mut State) {
    if s.handling == 0 && s.responding == 0 {
        let now = Instant::now();
        s.idle_since = now;
        s.last_io = now;
        s.head_started = None;
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: HttpLimits,
    mut stop: watch::Receiver<bool>,
    _slot: Slot,
) {
    let activity = Activity::new();
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let service_activity = activity.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let handling = Handling::start(&service_activity);
        let app = app.clone();
        let body_timeout = limits.body_timeout;
        async move {
            let req = req.map(|body| Body::new(DeadlineBody::new(body, body_timeout)));
            let resp = match app.oneshot(req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            };
            let responding = handling.answered();
            Ok::<_, Infallible>(resp.map(|body| {
                Body::new(SentBody {
                    inner: body,
                    _responding: responding,
                })
            }))
        }
    });
    // hyper's own head deadline runs from the moment a head could start, so it would also cut
    // idle keep-alive connections; set to both of ours together it never cuts earlier than
    // they do, and stays a backstop should our watch below miss a case.
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout + limits.idle_timeout)
        .serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    let tick = (limits.header_timeout.min(limits.idle_timeout) / 4)
        .clamp(Duration::from_millis(20), Duration::from_millis(500));
    let mut watch = tokio::time::interval(tick);
    let mut stopping = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "API connection ended with an error");
                }
                return;
            }
            _ = watch.tick() => {
                if let Some(why) = activity.expired(&limits) {
                    tracing::debug!(%peer, why, "API connection closed");
                    // Dropping the connection closes the socket.
                    return;
                }
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// The socket, noting every byte read or written in the connection's [`Activity`].
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.moved(true);
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.moved(false);
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.moved(false);
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A request body that must arrive in full before its deadline.
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

impl DeadlineBody {
    fn new(inner: Incoming, limit: Duration) -> DeadlineBody {
        DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(limit)),
            limit,
        }
    }
}

/// The request body did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("request body not received within {} ms", .0.as_millis())]
struct BodyTimeout(Duration);

impl hyper::body::Body for DeadlineBody {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        // The deadline comes first, so that a body arriving fast but late is cut all the same.
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyTimeout(self.limit)))));
        }
        Pin::new(&mut self.inner)
            .poll_frame(cx)
            .map_err(|e| Box::new(e) as Self::Error)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// An answer's body, holding the connection's "responding" mark until hyper drops it.
struct SentBody {
    inner: Body,
    _responding: Responding,
}

impl hyper::body::Body for SentBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
