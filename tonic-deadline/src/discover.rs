//! Which backends the balancer may send calls to, as two tower `Discover`
//! streams: every address the upstreams' names resolve to (again every
//! refresh period, so that a Kubernetes headless Service's pods come and go)
//! is in the first while it is connected and its health
//! (`grpc.health.v1.Health`, `Watch` of the overall status `""`) does not say
//! NOT_SERVING, and in the second while it is connected at all: a backend in
//! its lameduck still serves, so when no backend is SERVING, calls go to
//! those that are connected rather than fail (Envoy's "panic mode").
//!
//! A backend is taken in as soon as it is connected, before its health has
//! answered, and kept when it has no health service (UNIMPLEMENTED): health
//! only takes a backend out. An upstream may be a proxy (nginx `grpc_pass`):
//! a Watch that ends is asked again on the same connection, and only one
//! that cannot be asked again (a GOAWAY, a closed connection) takes it out. One that goes down is connected again, every
//! retry period (at most the refresh period, and at most a second), until
//! it is back.
use std::{
    collections::HashMap,
    convert::Infallible,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures_util::{Stream, StreamExt, future::BoxFuture};
use http::uri::Authority;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tower::discover::Change;

use crate::{
    endpoint::{Endpoint, Keepalive, Loaded},
    propagate::Propagate,
};

/// The first wait before connecting to a backend again; it doubles up to
/// the refresh period, or `MAX_RETRY` if that is sooner.
const FIRST_RETRY: Duration = Duration::from_millis(100);
/// A dead address costs a connection attempt this often at most; a restarted
/// backend serves again within it.
const MAX_RETRY: Duration = Duration::from_secs(1);

/// One `http://host:port` the user named.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub authority: Authority,
    host: String,
    port: u16,
}

impl Target {
    pub(crate) fn parse(uri: &http::Uri) -> Result<Target, String> {
        let authority = match (uri.scheme_str(), uri.authority()) {
            (Some("http"), Some(a)) => a.clone(),
            _ => return Err(format!("upstream {uri} must be an http:// origin (h2c)")),
        };
        let port = authority
            .port_u16()
            .ok_or_else(|| format!("upstream {uri} names no port"))?;
        let host = authority.host().trim_matches(['[', ']']).to_string();
        Ok(Target {
            authority,
            host,
            port,
        })
    }

    async fn resolve(&self) -> std::io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((self.host.as_str(), self.port))
            .await?
            .collect())
    }
}

/// How a target's addresses are found: DNS, or a test's own list.
pub(crate) type Resolve =
    Arc<dyn Fn(&Target) -> BoxFuture<'static, std::io::Result<Vec<SocketAddr>>> + Send + Sync>;

/// The system's resolver (getaddrinfo: /etc/hosts, DNS with the search domains).
pub(crate) fn dns() -> Resolve {
    Arc::new(|target: &Target| {
        let target = target.clone();
        Box::pin(async move { target.resolve().await })
    })
}

pub(crate) type Changes =
    std::pin::Pin<Box<dyn Stream<Item = Result<Change<SocketAddr, Loaded>, Infallible>> + Send>>;

/// The backends of one of the two sets, as the balancer of that set sees them.
pub(crate) struct Pool {
    pub changes: Changes,
    /// How many backends are in it now.
    pub size: watch::Receiver<usize>,
}

/// The two sets' sending ends.
#[derive(Clone)]
struct PoolSender {
    changes: mpsc::UnboundedSender<Change<SocketAddr, Loaded>>,
    size: watch::Sender<usize>,
}

fn pool() -> (PoolSender, Pool) {
    let (changes, rx) = mpsc::unbounded_channel();
    let (size, sizes) = watch::channel(0);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|change| (Ok(change), rx))
    });
    let pool = Pool {
        changes: Box::pin(stream),
        size: sizes,
    };
    (PoolSender { changes, size }, pool)
}

/// Starts resolving `targets` every `refresh`; returns the serving backends
/// and the connected ones. Runs until `stop` fires (or the balancers are gone).
pub(crate) fn start(
    targets: Vec<Target>,
    resolve: Resolve,
    refresh: Duration,
    keepalive: Keepalive,
    stop: CancellationToken,
) -> (Pool, Pool) {
    let (serving_tx, serving) = pool();
    let (connected_tx, connected) = pool();
    let resolver = Resolver {
        targets,
        resolve,
        refresh,
        keepalive,
        stop,
        serving: serving_tx,
        connected: connected_tx,
        watchers: HashMap::new(),
    };
    tokio::spawn(resolver.run());
    (serving, connected)
}

struct Resolver {
    targets: Vec<Target>,
    resolve: Resolve,
    refresh: Duration,
    keepalive: Keepalive,
    stop: CancellationToken,
    serving: PoolSender,
    connected: PoolSender,
    /// One task per address (stopped by its own token), and the upstream
    /// that resolved to it.
    watchers: HashMap<SocketAddr, (CancellationToken, Authority)>,
}

impl Resolver {
    async fn run(mut self) {
        loop {
            self.resolve_all().await;
            tokio::select! {
                () = self.stop.cancelled() => break,
                () = self.serving.changes.closed() => break,
                () = tokio::time::sleep(self.refresh) => {}
            }
        }
        for (_, (watcher, _)) in self.watchers.drain() {
            watcher.cancel();
        }
    }

    async fn resolve_all(&mut self) {
        let mut seen = Vec::new();
        for target in &self.targets {
            match (self.resolve)(target).await {
                Ok(addrs) => seen.extend(addrs.into_iter().map(|a| (a, target.clone()))),
                // A name that does not resolve for a moment keeps its backends.
                Err(e) => {
                    tracing::warn!(upstream = %target.authority, error = %e, "cannot resolve");
                    let kept = self
                        .watchers
                        .iter()
                        .filter(|(_, (_, a))| *a == target.authority);
                    seen.extend(
                        kept.map(|(addr, _)| (*addr, target.clone()))
                            .collect::<Vec<_>>(),
                    );
                }
            }
        }
        for (addr, target) in &seen {
            if !self.watchers.contains_key(addr) {
                tracing::info!(%addr, upstream = %target.authority, "upstream backend found");
                let token = self.stop.child_token();
                let watcher = Watcher {
                    addr: *addr,
                    authority: target.authority.clone(),
                    serving: Member::new(self.serving.clone()),
                    connected: Member::new(self.connected.clone()),
                    retry_max: self.refresh.min(MAX_RETRY),
                    keepalive: self.keepalive,
                };
                tokio::spawn(watcher.run(token.clone()));
                self.watchers
                    .insert(*addr, (token, target.authority.clone()));
            }
        }
        self.watchers.retain(|addr, (token, _)| {
            let keep = seen.iter().any(|(a, _)| a == addr);
            if !keep {
                tracing::info!(%addr, "upstream backend no longer resolves");
                token.cancel(); // its watcher takes it out
            }
            keep
        });
    }
}

/// One address's place in one set.
struct Member {
    pool: PoolSender,
    inside: AtomicBool,
}

impl Member {
    fn new(pool: PoolSender) -> Self {
        Member {
            pool,
            inside: AtomicBool::new(false),
        }
    }

    fn insert(&self, addr: SocketAddr, endpoint: &Endpoint) {
        if !self.inside.swap(true, Ordering::Relaxed) {
            let change = Change::Insert(addr, endpoint.clone().loaded());
            let _ = self.pool.changes.send(change);
            self.pool.size.send_modify(|n| *n += 1);
        }
    }

    fn remove(&self, addr: SocketAddr) {
        if self.inside.swap(false, Ordering::Relaxed) {
            let _ = self.pool.changes.send(Change::Remove(addr));
            self.pool.size.send_modify(|n| *n -= 1);
        }
    }
}

/// Keeps one address in the sets while it is connected (and healthy).
struct Watcher {
    addr: SocketAddr,
    authority: Authority,
    serving: Member,
    connected: Member,
    retry_max: Duration,
    keepalive: Keepalive,
}

impl Watcher {
    async fn run(self, stop: CancellationToken) {
        let mut retry = FIRST_RETRY.min(self.retry_max);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                served = self.connected() => {
                    self.out();
                    if served {
                        retry = FIRST_RETRY.min(self.retry_max);
                    }
                }
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(retry) => {}
            }
            retry = (retry * 2).min(self.retry_max);
        }
        self.out();
    }

    /// One connection, for as long as it lasts; whether it served throughout.
    async fn connected(&self) -> bool {
        let (endpoint, closed) =
            match Endpoint::connect(self.addr, &self.authority, self.keepalive).await {
                Ok(connected) => connected,
                Err(e) => {
                    tracing::debug!(addr = %self.addr, error = %e, "cannot connect to the backend");
                    return false;
                }
            };
        self.connected.insert(self.addr, &endpoint);
        self.serving.insert(self.addr, &endpoint);
        // Through `Propagate` (outside any handler it only makes the answer
        // fit: `upstream_answer.rs`): a health answer tonic cannot read
        // would panic this task, leaving the backend counted as serving.
        let mut health = HealthClient::new(Propagate::new(endpoint.clone()));
        let mut closed = closed;
        let mut served = true;
        loop {
            let request = HealthCheckRequest {
                service: String::new(),
            };
            let asked = tokio::time::Instant::now();
            match health.watch(request).await {
                Ok(statuses) => {
                    let mut statuses = statuses.into_inner();
                    let mut heard = false;
                    while let Some(Ok(status)) = statuses.next().await {
                        heard = true;
                        if status.status() == ServingStatus::Serving {
                            self.serving.insert(self.addr, &endpoint);
                        } else {
                            tracing::info!(addr = %self.addr, status = ?status.status(), "upstream backend not serving");
                            served = false;
                            self.serving.remove(self.addr);
                        }
                    }
                    // A Watch that ends after telling something: the backend
                    // shuts down (then asking again fails at once: GOAWAY), or
                    // a proxy's backend went away (then another one answers).
                    // One that ends at once, again and again, would spin.
                    if !heard || asked.elapsed() < FIRST_RETRY {
                        return false;
                    }
                }
                // No health checking there: in for as long as it is connected.
                Err(status) if status.code() == Code::Unimplemented => {
                    let _ = (&mut closed).await;
                    return served;
                }
                Err(status) => {
                    tracing::debug!(addr = %self.addr, %status, "backend health unknown");
                    return false;
                }
            }
        }
    }

    fn out(&self) {
        self.serving.remove(self.addr);
        self.connected.remove(self.addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_are_http_origins_with_a_port() {
        let t = Target::parse(&"http://backends.shop.svc:8081".parse().unwrap()).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("backends.shop.svc", 8081));
        let t = Target::parse(&"http://[::1]:9000".parse().unwrap()).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9000));
        for bad in ["https://a:1", "http://a", "a:1", "/path"] {
            let e = Target::parse(&bad.parse().unwrap()).unwrap_err();
            assert!(e.contains(bad.trim_start_matches('/')), "{bad}: {e}");
        }
    }

    #[tokio::test]
    async fn a_name_stands_for_every_address_it_resolves_to() {
        let t = Target::parse(&"http://localhost:8081".parse().unwrap()).unwrap();
        let addrs = t.resolve().await.unwrap();
        assert!(
            addrs
                .iter()
                .any(|a| a.ip().is_loopback() && a.port() == 8081),
            "{addrs:?}"
        );
    }
}
