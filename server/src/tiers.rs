//! Starting the tiers: a backend that does the work, a frontend that calls it
//! over real loopback HTTP/2 (or an external backend), or both in one process.
use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use tokio::net::TcpListener;
use tonic::{server::NamedService, service::Routes};
use tower::{ServiceBuilder, steer::Steer};
use tracing::info;

use crate::{
    accept,
    app::{self, AllowedOrigins, StaticDirs},
    metrics::Metrics,
    services::{greeter, stats, updates, work},
    tls::Tls,
};
use tonic_deadline::{Balanced, DeadlineLayer, Health, Shutdown};

/// Which tiers this process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    Frontend,
    Backend,
    Both,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub role: Role,
    /// Where the frontend listens.
    pub addr: SocketAddr,
    /// Where the backend listens (role `backend` or `both`).
    pub backend_addr: SocketAddr,
    /// The backends a lone frontend calls, e.g. `http://10.0.0.2:8081`, or
    /// a name that resolves to all of them (a Kubernetes headless Service);
    /// its calls are spread over them per call.
    pub upstream: Vec<String>,
    /// How often the upstream names are resolved again (and a backend that
    /// went down is retried at least).
    pub upstream_refresh: Duration,
    pub origins: AllowedOrigins,
    /// Static files for the frontend; `None` serves none.
    pub static_dirs: Option<StaticDirs>,
    /// TLS for the frontend (browsers speak HTTP/2 only over TLS); the
    /// backend always speaks h2c.
    pub tls: Option<Tls>,
    /// How long unary calls in flight may take to finish once shutdown begins.
    pub drain_timeout: Duration,
    /// How long health reports NOT_SERVING, calls still served, before the
    /// shutdown begins.
    pub lameduck: Duration,
    pub limits: Limits,
}

/// What a tier accepts; over a limit a call ends at once with
/// RESOURCE_EXHAUSTED naming it, never waits in a queue.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The largest request message, in bytes.
    pub max_message_bytes: usize,
    /// Calls at once per tier.
    pub max_calls: Option<usize>,
    /// Calls at once per client connection, at the frontend (a frontend
    /// reaches its backend over one connection that carries all its calls).
    pub max_calls_per_connection: Option<usize>,
    /// The deadline of calls that carry none.
    pub default_timeout: Option<Duration>,
    /// How long a connection may be slow or idle.
    pub connections: accept::Timeouts,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 4 * 1024 * 1024, // tonic's default
            max_calls: None,
            max_calls_per_connection: None,
            default_timeout: None,
            connections: accept::Timeouts::default(),
        }
    }
}

/// The running tiers: [`Running::shutdown`] (or SIGTERM, with
/// [`Shutdown::on_signal`]) stops them gracefully, dropping this at once.
pub struct Running {
    pub frontend: Option<SocketAddr>,
    pub backend: Option<SocketAddr>,
    pub metrics: Arc<Metrics>,
    pub shutdown: Shutdown,
    tasks: tokio::task::JoinSet<std::io::Result<()>>,
}

impl Running {
    /// Runs until a tier fails, or until the tiers have shut down: every
    /// connection closed, or the drain time and one second more gone by
    /// after the lameduck.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let shutdown = self.shutdown.clone();
        let deadline = async move {
            shutdown.begun().await;
            tokio::time::sleep(shutdown.drain_timeout() + Duration::from_secs(1)).await;
        };
        tokio::select! {
            result = async {
                while let Some(done) = self.tasks.join_next().await {
                    done.context("a tier panicked")?
                        .context("a tier stopped serving")?;
                }
                anyhow::Ok(())
            } => result,
            () = deadline => {
                tracing::warn!("connections still open after the drain time: closing them");
                Ok(())
            }
        }
    }

    /// After the lameduck (health NOT_SERVING, calls still served), stops
    /// accepting (GOAWAY), ends streams at once with UNAVAILABLE and unary
    /// calls when the drain time is up.
    pub fn shutdown(&self) {
        self.shutdown.begin();
    }
}

/// Binds and starts the tiers `config` asks for.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    // tonic's own limit (4 MiB, answered with OUT_OF_RANGE) set to the
    // layer's, which sees a message's size first and answers RESOURCE_EXHAUSTED.
    let max_message_bytes = config.limits.max_message_bytes;
    macro_rules! limited {
        ($server:expr) => {
            $server.max_decoding_message_size(max_message_bytes)
        };
    }
    // A tier's services routed, and the health service that reports each:
    // a macro, as the services' types differ and tonic's bounds are long.
    macro_rules! routed {
        ($shutdown:expr; $first:ident $(, $rest:ident)*) => {{
            let health = health($shutdown, &[name_of(&$first) $(, name_of(&$rest))*]).await;
            (Routes::new($first)$(.add_service($rest))*, health)
        }};
    }
    let metrics = Arc::new(Metrics::default());
    let shutdown = Shutdown::new(config.drain_timeout).with_lameduck(config.lameduck);
    let mut running = Running {
        frontend: None,
        backend: None,
        metrics: metrics.clone(),
        shutdown: shutdown.clone(),
        tasks: tokio::task::JoinSet::new(),
    };

    if config.role != Role::Frontend {
        let greeter = limited!(greeter::backend());
        let updates = limited!(updates::backend());
        let work = limited!(work::backend());
        let stats = stats::service("backend", metrics.clone(), None);
        let (routes, health) = routed!(&shutdown; greeter, updates, work, stats);
        let service = app::service(
            "backend",
            routes,
            metrics.clone(),
            &shutdown,
            &config.limits,
            &config.origins,
            None,
        );
        let service = with_health(service, health);
        let addr = config.backend_addr;
        running.backend = Some(
            serve(
                &mut running,
                "backend",
                addr,
                service,
                None,
                None,
                &config.limits,
            )
            .await?,
        );
    }

    if config.role != Role::Backend {
        let upstream_urls = match (&config.upstream[..], running.backend) {
            ([], Some(addr)) => vec![format!("http://{addr}")],
            ([], None) => anyhow::bail!("a lone frontend needs --upstream"),
            (urls, _) => urls.to_vec(),
        };
        let origins = upstream_urls
            .iter()
            .map(|url| {
                url.parse()
                    .with_context(|| format!("--upstream {url:?} is not a URL"))
            })
            .collect::<anyhow::Result<Vec<http::Uri>>>()?;
        let client =
            Balanced::new(origins, config.upstream_refresh).map_err(|e| anyhow::anyhow!(e))?;
        // Bounded: a backend that accepts and never answers, or none up yet,
        // must not keep the frontend from starting.
        if !client.ready_within(Duration::from_secs(1)).await {
            // They may come up later: calls will reach them then.
            tracing::warn!(upstream = ?upstream_urls, "no backend answers yet");
        }
        let upstream = client.propagating();
        // Upstream replies under the same limit as requests: tonic reserves a
        // message's announced length as it starts reading it, so a backend
        // announcing 4 GiB would have the frontend set out to buffer it.
        let greeter = limited!(greeter::frontend(upstream.clone(), max_message_bytes));
        let updates = limited!(updates::frontend(upstream.clone(), max_message_bytes));
        let work = limited!(work::frontend(upstream.clone(), max_message_bytes));
        let stats = stats::service("frontend", metrics.clone(), Some(upstream));
        let (routes, health) = routed!(&shutdown; greeter, updates, work, stats);
        let service = app::service(
            "frontend",
            routes,
            metrics.clone(),
            &shutdown,
            &config.limits,
            &config.origins,
            config.static_dirs.as_ref(),
        );
        let service = with_health(service, health);
        let tls = config.tls.as_ref().map(|t| t.config.clone());
        let per_connection = config.limits.max_calls_per_connection;
        let addr = config.addr;
        running.frontend = Some(
            serve(
                &mut running,
                "frontend",
                addr,
                service,
                tls,
                per_connection,
                &config.limits,
            )
            .await?,
        );
        info!(upstream = ?upstream_urls, "frontend calls its backends");
    }
    Ok(running)
}

/// The full name of a service, e.g. `demo.v1.Greeter`.
fn name_of<S: NamedService>(_: &S) -> &'static str {
    S::NAME
}

/// The tier's health: the overall status and each of `services` SERVING
/// until the shutdown is asked for.
async fn health(shutdown: &Shutdown, services: &[&str]) -> app::HttpService {
    let (health, server) = Health::new(shutdown);
    for name in services {
        health.set_service_serving(name).await;
    }
    // Its own deadline layer, for `Watch` to end when the shutdown begins.
    let deadlines = DeadlineLayer::new()
        .methods(Health::methods())
        .shutdown(shutdown);
    let service = ServiceBuilder::new()
        .map_response(|r: http::Response<tonic::body::Body>| r.map(axum::body::Body::new))
        .layer(deadlines)
        .service(server);
    app::HttpService::new(service)
}

/// `grpc.health.v1.Health` beside the tier's own calls, outside their metrics
/// and limits: a probe must be answered even when the tier is at its call
/// limit, and the frontends' `Watch` streams on a backend are no calls of its.
fn with_health(service: app::HttpService, health: app::HttpService) -> app::HttpService {
    const PREFIX: &str = "/grpc.health.v1.Health/";
    let steer = Steer::new(
        [service, health],
        |req: &http::Request<axum::body::Body>, _: &[_]| {
            usize::from(req.uri().path().starts_with(PREFIX))
        },
    );
    app::HttpService::new(steer)
}

/// HTTP/2 streams at once on one connection to the frontend: hyper's default.
const FRONTEND_STREAMS_PER_CONNECTION: u32 = 200;
/// On one connection to the backend: a frontend carries all its calls over
/// one connection, so the backend's per-connection limit is its frontend's
/// total (at 200, the 201st call would wait inside the frontend's client).
const BACKEND_STREAMS_PER_CONNECTION: u32 = 10_000;

async fn serve(
    running: &mut Running,
    tier: &str,
    addr: SocketAddr,
    service: app::HttpService,
    tls: Option<Arc<rustls::ServerConfig>>,
    per_connection: Option<usize>,
    limits: &Limits,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("{tier}: cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    info!(%tier, addr = %local, %scheme, "listening (gRPC, gRPC-Web, HTTP/1.1 and HTTP/2)");
    let stop = running.shutdown.begun();
    let max_streams = match tier {
        "backend" => BACKEND_STREAMS_PER_CONNECTION,
        _ => FRONTEND_STREAMS_PER_CONNECTION,
    };
    let serving = accept::Serving {
        tier: tier.to_owned(),
        service,
        tls,
        max_streams,
        per_connection,
        timeouts: limits.connections,
    };
    running.tasks.spawn(accept::serve(listener, serving, stop));
    Ok(local)
}
