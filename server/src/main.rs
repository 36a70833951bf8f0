//! `demo-server`: runs the frontend and backend tiers.
use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Parser;
use demo_server::{
    app::{AllowedOrigins, StaticDirs},
    tiers::{self, Config, Limits, Role},
    tls::Tls,
};
use http::HeaderValue;

/// A two-tier gRPC demo server (frontend calls backend) that honours
/// deadlines and cancellation end to end; speaks native gRPC and gRPC-Web
/// over HTTP/1.1 and HTTP/2, serves the demo page and /metrics.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Where the frontend tier listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Where the backend tier listens (with --role backend or both).
    #[arg(long, default_value = "127.0.0.1:8081")]
    backend_addr: SocketAddr,
    /// Which tiers to run in this process.
    #[arg(long, value_enum, default_value_t = Role::Both)]
    role: Role,
    /// A backend a frontend calls instead of its own, e.g. http://10.0.0.2:8081
    /// (repeatable), or a name that resolves to all of them, e.g. a Kubernetes
    /// headless Service: calls are spread over them per call.
    #[arg(long, value_name = "URL")]
    upstream: Vec<String>,
    /// How often --upstream names are resolved again; a backend that went
    /// down is retried at least this often.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_positive_duration)]
    upstream_refresh: Duration,
    /// A browser origin allowed to call (repeatable); replaces the default,
    /// which allows loopback origins (localhost, 127.0.0.1, [::1]) only.
    #[arg(long = "allow-origin", value_name = "ORIGIN", value_parser = parse_origin)]
    allow_origins: Vec<HeaderValue>,
    /// The demo page's directory, served at /.
    #[arg(long, default_value = "www")]
    www: PathBuf,
    /// The npm package's directory, served at /pkg/.
    #[arg(long, default_value = "pkg")]
    pkg: PathBuf,
    /// The frontend's TLS certificate chain (PEM); with --tls-key it serves
    /// https, HTTP/2 by ALPN.
    #[arg(long, requires = "tls_key", conflicts_with = "tls_self_signed")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve https with a certificate made at start-up for localhost,
    /// 127.0.0.1 and ::1; prints its SPKI hash for Chromium's
    /// --ignore-certificate-errors-spki-list.
    #[arg(long)]
    tls_self_signed: bool,
    /// On SIGTERM or Ctrl-C, how long unary calls in flight may take to
    /// finish (never past their own deadline); streams end at once.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    drain_timeout: Duration,
    /// On SIGTERM or Ctrl-C, how long health checks answer NOT_SERVING while
    /// calls are still accepted and served, before the shutdown (for load
    /// balancers and readiness probes to take this server out first).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    lameduck: Duration,
    /// The largest request message accepted (RESOURCE_EXHAUSTED above it),
    /// and the largest reply message a frontend reads from its backends.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_message_bytes)]
    max_message_bytes: usize,
    /// Calls at once per tier (RESOURCE_EXHAUSTED above it); unlimited by default.
    #[arg(long, value_name = "N")]
    max_calls: Option<usize>,
    /// Calls at once per client connection at the frontend.
    #[arg(long, value_name = "N")]
    max_calls_per_connection: Option<usize>,
    /// The deadline of calls that carry no grpc-timeout, e.g. 30s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    default_timeout: Option<Duration>,
    /// Close an HTTP/1.1 connection whose request header has not fully
    /// arrived this long after the server began reading it.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    header_read_timeout: Duration,
    /// Close a connection with no call open for this long (HTTP/2: GOAWAY
    /// first); longer than a proxy's idle time for its upstreams (nginx: 60s).
    #[arg(long, value_name = "DURATION", default_value = "75s", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// HTTP/2: PING a connection this often, and close it when a PING is not
    /// answered within --http2-keepalive-timeout (a peer gone without a FIN).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    http2_keepalive_interval: Duration,
    /// How long an HTTP/2 PING may go unanswered.
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = parse_duration)]
    http2_keepalive_timeout: Duration,
}

/// An origin as browsers send it (`https://app.example.com`), never `*`.
fn parse_origin(s: &str) -> Result<HeaderValue, String> {
    tonic_deadline::GrpcWebCors::new()
        .allow_origin(s)
        .map_err(|e| e.to_string())?;
    HeaderValue::from_str(s).map_err(|e| e.to_string())
}

/// A duration above zero.
fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    parse_duration(s).and_then(|d| {
        if d.is_zero() {
            Err(format!("{s:?} must be above zero"))
        } else {
            Ok(d)
        }
    })
}

/// `250ms`, `5s` or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration like 250ms or 5s");
    match s.strip_suffix("ms") {
        Some(ms) => ms.parse().map(Duration::from_millis).map_err(|_| bad()),
        None => s
            .strip_suffix('s')
            .unwrap_or(s)
            .parse::<f64>()
            .ok()
            // Not from_secs_f64: it panics on a negative or endless value.
            .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
            .ok_or_else(bad),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    // Installed before the tiers listen: a SIGTERM right after is graceful too.
    let signal = tonic_deadline::signal();
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(Tls::from_pem_files(cert, key)?),
        _ if args.tls_self_signed => Some(Tls::self_signed()?),
        _ => None,
    };
    if tls.is_some() && args.role == Role::Backend {
        anyhow::bail!("TLS is for the frontend, which browsers reach; a backend speaks h2c");
    }
    if let Some(hash) = tls.as_ref().and_then(|t| t.spki_sha256.as_ref()) {
        // On stdout, for the tools that start browsers against this server.
        println!("self-signed certificate; SPKI SHA-256: {hash}");
    }
    let running = tiers::start(Config {
        role: args.role,
        addr: args.addr,
        backend_addr: args.backend_addr,
        upstream: args.upstream,
        upstream_refresh: args.upstream_refresh,
        origins: AllowedOrigins(args.allow_origins),
        static_dirs: Some(StaticDirs {
            www: args.www,
            pkg: args.pkg,
        }),
        tls,
        drain_timeout: args.drain_timeout,
        lameduck: args.lameduck,
        limits: Limits {
            max_message_bytes: args.max_message_bytes,
            max_calls: args.max_calls,
            max_calls_per_connection: args.max_calls_per_connection,
            default_timeout: args.default_timeout,
            connections: demo_server::accept::Timeouts {
                header_read: args.header_read_timeout,
                idle: args.idle_timeout,
                keepalive_interval: args.http2_keepalive_interval,
                keepalive_timeout: args.http2_keepalive_timeout,
            },
        },
    })
    .await?;
    let shutdown = running.shutdown.clone();
    tokio::spawn(async move {
        signal.await;
        shutdown.begin();
    });
    running.wait().await
}
