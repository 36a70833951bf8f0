//! `demo-server`: runs the frontend and backend tiers.
use std::{net::SocketAddr, path::PathBuf};

use clap::Parser;
use demo_server::{
    app::{AllowedOrigins, StaticDirs},
    tiers::{self, Config, Role},
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
    /// The backend a frontend calls instead of its own, e.g. http://10.0.0.2:8081.
    #[arg(long)]
    upstream: Option<String>,
    /// A browser origin allowed to call (repeatable); replaces the default,
    /// which allows loopback origins (localhost, 127.0.0.1, [::1]) only.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origins: Vec<HeaderValue>,
    /// The demo page's directory, served at /.
    #[arg(long, default_value = "www")]
    www: PathBuf,
    /// The npm package's directory, served at /pkg/.
    #[arg(long, default_value = "pkg")]
    pkg: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let running = tiers::start(Config {
        role: args.role,
        addr: args.addr,
        backend_addr: args.backend_addr,
        upstream: args.upstream,
        origins: AllowedOrigins(args.allow_origins),
        static_dirs: Some(StaticDirs {
            www: args.www,
            pkg: args.pkg,
        }),
    })
    .await?;
    // Ctrl-C drops `running`, which stops both tiers.
    tokio::select! {
        result = running.wait() => result,
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("shutting down");
            Ok(())
        }
    }
}
