//! Per-call balancing over several backends: the upstream of a frontend
//! behind a Kubernetes headless Service, or given several addresses.
//!
//! One HTTP/2 connection carries every call to one backend, so a client
//! balancing per connection (a Kubernetes Service at L4) sends them all to
//! one pod. Here each call goes to the less loaded of two backends picked at
//! random (tower's power-of-two-choices balancer, over calls in flight,
//! streams counted until they end), from those `discover` lets in: resolved
//! again every refresh period, connected, and not NOT_SERVING by their
//! health (when none is SERVING, from those connected: a backend in its
//! lameduck still serves). A call is still one HTTP/2 stream to one
//! backend, so [`Propagate`] works over it as over one connection: the
//! deadline travels in `grpc-timeout`, a cancel resets that stream, and a
//! backend that dies mid-call ends only its own calls, with UNAVAILABLE.
use std::{
    fmt,
    sync::Arc,
    task::{Context, Poll, ready},
    time::Duration,
};

use futures_util::future::BoxFuture;
use http::{Request, Response, Uri};
use tokio::sync::watch;
use tokio_util::sync::{CancellationToken, DropGuard, ReusableBoxFuture};
use tonic::body::Body;
use tower::{
    BoxError, Service, ServiceExt, balance::p2c::Balance, buffer::Buffer, util::BoxService,
};

use crate::{
    discover::{self, Target},
    endpoint::{Keepalive, NotSent},
    propagate::Propagate,
};

/// How often names are resolved again unless told otherwise.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(5);

/// Calls waiting for the balancer at once (it hands them on at once while
/// any backend is in; a call's own deadline bounds its wait otherwise).
const QUEUE: usize = 1024;

/// How often a call that never left (its backend's connection had just
/// closed) is handed to the balancer again, which meanwhile drops that backend.
const RESENDS: usize = 2;

type Shared = Buffer<Request<Body>, BoxFuture<'static, Result<Response<Body>, BoxError>>>;

/// A client that spreads calls per call over every address of its
/// upstreams; cheap to clone, every clone the same balancer. Needs a tokio
/// runtime; its background tasks end with the last clone.
#[derive(Clone)]
pub struct Balanced {
    serving: Pool,
    connected: Pool,
    upstreams: Arc<str>,
    /// Which pool the call after `poll_ready` goes to; `None`: it fails at once.
    chosen: Option<Which>,
    _stop: Arc<DropGuard>,
}

/// A balancer over one set of backends, and the set's size.
#[derive(Clone)]
struct Pool {
    balancer: Shared,
    size: watch::Receiver<usize>,
}

impl Pool {
    fn new(pool: discover::Pool) -> Self {
        let balance = UntilEmpty::new(Balance::new(pool.changes), pool.size.clone());
        let balancer = Buffer::new(BoxService::new(balance), QUEUE);
        Pool {
            balancer,
            size: pool.size,
        }
    }

    fn size(&self) -> usize {
        *self.size.borrow()
    }
}

/// tower's balancer waits, calls queued behind it, for as long as it has no
/// backend ready; this hands each queued call back (not sent) as soon as
/// the pool is empty, for `Balanced` to send it to the other pool or fail it.
struct UntilEmpty<S> {
    inner: S,
    size: watch::Receiver<usize>,
    /// Completes when the size changes: a wake-up while `inner` waits.
    changed: ReusableBoxFuture<'static, watch::Receiver<usize>>,
    empty: bool,
}

impl<S> UntilEmpty<S> {
    fn new(inner: S, size: watch::Receiver<usize>) -> Self {
        let changed = ReusableBoxFuture::new(changed(size.clone()));
        UntilEmpty {
            inner,
            size,
            changed,
            empty: false,
        }
    }
}

async fn changed(mut size: watch::Receiver<usize>) -> watch::Receiver<usize> {
    if size.changed().await.is_err() {
        std::future::pending::<()>().await; // the pool is gone: no more news
    }
    size
}

impl<S> Service<Request<Body>> for UntilEmpty<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        loop {
            self.empty = *self.size.borrow() == 0;
            if self.empty {
                return Poll::Ready(Ok(()));
            }
            if self.inner.poll_ready(cx)?.is_ready() {
                return Poll::Ready(Ok(()));
            }
            let size = ready!(self.changed.poll(cx));
            self.changed.set(changed(size));
        }
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if std::mem::take(&mut self.empty) {
            let e = NotSent::new(req, "no backend left in the pool".into());
            return Box::pin(async move { Err(e.into()) });
        }
        Box::pin(self.inner.call(req))
    }
}

#[derive(Clone, Copy, Debug)]
enum Which {
    Serving,
    Connected,
}

impl fmt::Debug for Balanced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Balanced")
            .field("upstreams", &self.upstreams)
            .field("serving", &self.serving.size())
            .field("connected", &self.connected.size())
            .finish()
    }
}

impl Balanced {
    /// Balances over `upstreams` (each `http://host:port`, h2c; a name
    /// stands for all the addresses it resolves to), resolved again every
    /// `refresh`; a backend that went down is retried at least that often.
    pub fn new(
        upstreams: impl IntoIterator<Item = Uri>,
        refresh: Duration,
    ) -> Result<Self, BoxError> {
        Self::resolving(upstreams, refresh, discover::dns(), Keepalive::default())
    }

    pub(crate) fn resolving(
        upstreams: impl IntoIterator<Item = Uri>,
        refresh: Duration,
        resolve: discover::Resolve,
        keepalive: Keepalive,
    ) -> Result<Self, BoxError> {
        let uris: Vec<Uri> = upstreams.into_iter().collect();
        if uris.is_empty() {
            return Err("no upstream given".into());
        }
        if refresh.is_zero() {
            return Err("the refresh period must be above zero".into());
        }
        let targets = uris.iter().map(Target::parse).collect::<Result<_, _>>()?;
        let stop = CancellationToken::new();
        let (serving, connected) =
            discover::start(targets, resolve, refresh, keepalive, stop.clone());
        let names: Vec<String> = uris.iter().map(ToString::to_string).collect();
        Ok(Balanced {
            serving: Pool::new(serving),
            connected: Pool::new(connected),
            upstreams: names.join(", ").into(),
            chosen: None,
            _stop: Arc::new(stop.drop_guard()),
        })
    }

    /// How many backends report SERVING (or have no health service), and
    /// how many are connected at all.
    pub fn available(&self) -> (usize, usize) {
        (self.serving.size(), self.connected.size())
    }

    /// Waits until some backend is connected, for at most `within`; whether one is.
    pub async fn ready_within(&self, within: Duration) -> bool {
        let mut size = self.connected.size.clone();
        tokio::time::timeout(within, size.wait_for(|n| *n > 0))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The same, wrapped so that calls inherit deadline and cancellation.
    pub fn propagating(self) -> Propagate<Balanced> {
        Propagate::new(self)
    }

    /// The serving backends if there are any, else the connected ones.
    fn choose(&self) -> Option<Which> {
        if self.serving.size() > 0 {
            Some(Which::Serving)
        } else if self.connected.size() > 0 {
            Some(Which::Connected)
        } else {
            None
        }
    }

    fn pool(&mut self, which: Which) -> &mut Pool {
        match which {
            Which::Serving => &mut self.serving,
            Which::Connected => &mut self.connected,
        }
    }
}

impl Service<Request<Body>> for Balanced {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // With no backend in, the call fails at once (UNAVAILABLE, through
        // `Propagate`) rather than wait in the queue for one.
        self.chosen = self.choose();
        match self.chosen {
            Some(which) => self.pool(which).balancer.poll_ready(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let Some(which) = self.chosen.take() else {
            let e = format!("no backend of {} is available", self.upstreams);
            return Box::pin(async move { Err(e.into()) });
        };
        let first = self.pool(which).balancer.call(req);
        let mut again = self.clone();
        Box::pin(async move {
            let mut result = first.await;
            for _ in 0..RESENDS {
                let e = match result {
                    Ok(response) => return Ok(response),
                    Err(e) => e,
                };
                let Some(req) = e.downcast_ref::<NotSent>().and_then(NotSent::take) else {
                    return Err(e);
                };
                tracing::debug!(error = %e, "sending the call to another backend");
                let Some(which) = again.choose() else {
                    return Err(e);
                };
                let pool = again.pool(which);
                pool.balancer.ready().await?;
                result = pool.balancer.call(req).await;
            }
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use std::{
        net::SocketAddr,
        sync::{
            Mutex,
            atomic::{AtomicUsize, Ordering},
        },
        time::Instant,
    };

    use tonic::transport::Server;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    use tower::util::MapRequestLayer;

    use super::*;

    /// A backend (tonic-health's service alone) that counts the `Check`
    /// calls it serves.
    async fn backend() -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let checks = Arc::new(AtomicUsize::new(0));
        let counted = checks.clone();
        let count = MapRequestLayer::new(move |req: Request<Body>| {
            if req.uri().path().ends_with("/Check") {
                counted.fetch_add(1, Ordering::SeqCst);
            }
            req
        });
        let (_, health) = tonic_health::server::health_reporter();
        tokio::spawn(
            Server::builder()
                .layer(count)
                .add_service(health)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        (addr, checks)
    }

    async fn checks(client: &HealthClient<Balanced>, n: usize) {
        for _ in 0..n {
            let request = HealthCheckRequest {
                service: String::new(),
            };
            client
                .clone()
                .check(request)
                .await
                .expect("the call succeeds");
        }
    }

    /// Polls `cond` (after `n` more calls each time) for at most 3 s.
    async fn after_calls(
        client: &HealthClient<Balanced>,
        what: &str,
        mut cond: impl FnMut() -> bool,
    ) {
        let start = Instant::now();
        loop {
            checks(client, 10).await;
            if cond() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(3),
                "{what}: not within 3 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn names_are_resolved_again_every_refresh() {
        let ((a, at_a), (b, at_b)) = (backend().await, backend().await);
        let resolved = Arc::new(Mutex::new(vec![a]));
        let answer = resolved.clone();
        let resolutions = Arc::new(AtomicUsize::new(0));
        let counted = resolutions.clone();
        // No address: the name does not resolve (NXDOMAIN) for the moment.
        let resolve: discover::Resolve = Arc::new(move |_: &Target| {
            counted.fetch_add(1, Ordering::SeqCst);
            let addrs = answer.lock().unwrap().clone();
            Box::pin(async move {
                match addrs.is_empty() {
                    true => Err(std::io::Error::other("no such name")),
                    false => Ok(addrs),
                }
            })
        });
        let upstream = "http://backends.test:1".parse().unwrap();
        let balanced = Balanced::resolving(
            [upstream],
            Duration::from_millis(200),
            resolve,
            Keepalive::default(),
        )
        .unwrap();
        assert!(balanced.ready_within(Duration::from_secs(2)).await);
        let client = HealthClient::new(balanced);

        checks(&client, 20).await;
        assert_eq!(
            (at_a.load(Ordering::SeqCst), at_b.load(Ordering::SeqCst)),
            (20, 0)
        );

        // A pod comes: it gets calls too.
        resolved.lock().unwrap().push(b);
        after_calls(&client, "the new backend serves", || {
            at_b.load(Ordering::SeqCst) > 0
        })
        .await;

        // A pod goes: it gets none any more. Judged once the name has been
        // resolved again twice (the new set seen, not just asked for): a
        // batch without a call at A proves nothing while A is still in,
        // as p2c may pick B ten times in a row.
        *resolved.lock().unwrap() = vec![b];
        let changed = resolutions.load(Ordering::SeqCst);
        let mut last = usize::MAX;
        after_calls(&client, "the old backend is left out", || {
            let now = at_a.load(Ordering::SeqCst);
            let unchanged = std::mem::replace(&mut last, now) == now;
            unchanged && resolutions.load(Ordering::SeqCst) >= changed + 2
        })
        .await;
        let before = (at_a.load(Ordering::SeqCst), at_b.load(Ordering::SeqCst));
        checks(&client, 20).await;
        assert_eq!(at_a.load(Ordering::SeqCst), before.0);
        assert_eq!(at_b.load(Ordering::SeqCst), before.1 + 20);

        // A name that stops resolving for a while keeps its backends.
        resolved.lock().unwrap().clear();
        let since = resolutions.load(Ordering::SeqCst);
        after_calls(&client, "two failed resolutions", || {
            resolutions.load(Ordering::SeqCst) >= since + 2
        })
        .await;
        checks(&client, 10).await; // all succeed (on b)
    }
    /// A backend that accepts connections and then says nothing (its host
    /// gone without a FIN, as far as this side can tell): the keepalive's
    /// unanswered PING closes the connection and takes it out.
    #[tokio::test]
    async fn a_silent_backend_is_taken_out_by_the_keepalive() {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        let held = tokio::spawn(async move {
            let mut sockets = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                sockets.push(socket); // never read, never written
            }
        });
        let resolve: discover::Resolve =
            Arc::new(move |_: &Target| Box::pin(async move { Ok(vec![addr]) }));
        let keepalive = Keepalive {
            interval: Duration::from_millis(100),
            timeout: Duration::from_millis(100),
        };
        let upstream = "http://silent.test:1".parse().unwrap();
        let balanced =
            Balanced::resolving([upstream], DEFAULT_REFRESH, resolve, keepalive).unwrap();
        // In as soon as connected (health has not answered: it never will) ...
        assert!(balanced.ready_within(Duration::from_secs(2)).await);
        let connected_at = Instant::now();
        // ... and out once a PING has gone unanswered.
        let mut size = balanced.connected.size.clone();
        tokio::time::timeout(Duration::from_secs(2), size.wait_for(|n| *n == 0))
            .await
            .expect("taken out within 2 s")
            .unwrap();
        let took = connected_at.elapsed();
        assert!(
            took >= Duration::from_millis(150),
            "out after {took:?}: not by the keepalive"
        );
        held.abort();
    }
}
