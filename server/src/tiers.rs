//! Starting the tiers: a backend that does the work, a frontend that calls it
//! over real loopback HTTP/2 (or an external backend), or both in one process.
use std::{net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tracing::info;

use crate::{
    app::{self, AllowedOrigins, StaticDirs},
    metrics::Metrics,
    services::{greeter, stats, updates, work},
    upstream::Http2Client,
};

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
    /// The backend a lone frontend calls, e.g. `http://10.0.0.2:8081`.
    pub upstream: Option<String>,
    pub origins: AllowedOrigins,
    /// Static files for the frontend; `None` serves none.
    pub static_dirs: Option<StaticDirs>,
}

/// The running tiers; dropping this (or [`Running::shutdown`]) stops them.
pub struct Running {
    pub frontend: Option<SocketAddr>,
    pub backend: Option<SocketAddr>,
    pub metrics: Arc<Metrics>,
    stop: CancellationToken,
    tasks: tokio::task::JoinSet<std::io::Result<()>>,
}

impl Running {
    /// Runs until a tier fails or [`Running::shutdown`] is called elsewhere.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        while let Some(done) = self.tasks.join_next().await {
            done.context("a tier panicked")?
                .context("a tier stopped serving")?;
        }
        Ok(())
    }

    pub fn shutdown(&self) {
        self.stop.cancel();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Binds and starts the tiers `config` asks for.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    let metrics = Arc::new(Metrics::default());
    let mut running = Running {
        frontend: None,
        backend: None,
        metrics: metrics.clone(),
        stop: CancellationToken::new(),
        tasks: tokio::task::JoinSet::new(),
    };

    if config.role != Role::Frontend {
        let routes = Routes::new(greeter::backend())
            .add_service(updates::backend())
            .add_service(work::backend())
            .add_service(stats::service("backend", metrics.clone(), None));
        let service = app::service("backend", routes, metrics.clone(), &config.origins, None);
        running.backend = Some(serve(&mut running, "backend", config.backend_addr, service).await?);
    }

    if config.role != Role::Backend {
        let upstream_url = match (&config.upstream, running.backend) {
            (Some(url), _) => url.clone(),
            (None, Some(addr)) => format!("http://{addr}"),
            (None, None) => anyhow::bail!("a lone frontend needs --upstream"),
        };
        let origin = upstream_url
            .parse()
            .with_context(|| format!("--upstream {upstream_url:?} is not a URL"))?;
        let client = Http2Client::new(origin).map_err(|e| anyhow::anyhow!(e))?;
        if let Err(e) = client.connect().await {
            // It may come up later: calls will connect then.
            tracing::warn!(upstream = %upstream_url, error = %e, "the backend does not answer yet");
        }
        let upstream = client.propagating();
        let routes = Routes::new(greeter::frontend(upstream.clone()))
            .add_service(updates::frontend(upstream.clone()))
            .add_service(work::frontend(upstream.clone()))
            .add_service(stats::service("frontend", metrics.clone(), Some(upstream)));
        let service = app::service(
            "frontend",
            routes,
            metrics.clone(),
            &config.origins,
            config.static_dirs.as_ref(),
        );
        running.frontend = Some(serve(&mut running, "frontend", config.addr, service).await?);
        info!(upstream = %upstream_url, "frontend calls its backend");
    }
    Ok(running)
}

async fn serve(
    running: &mut Running,
    tier: &str,
    addr: SocketAddr,
    service: app::HttpService,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("{tier}: cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    info!(%tier, addr = %local, "listening (gRPC, gRPC-Web, HTTP/1.1 and HTTP/2)");
    let stop = running.stop.clone();
    running.tasks.spawn(async move {
        // Small gRPC frames must not wait on Nagle's algorithm.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, axum::ServiceExt::into_make_service(service))
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
    });
    Ok(local)
}
