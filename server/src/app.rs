//! One tier's HTTP service: gRPC (native and gRPC-Web, HTTP/1.1 and HTTP/2)
//! for requests whose content type says so, and for everything else
//! `/metrics`, `/stops` (the stop log), the npm package at `/pkg/` and the demo page at `/`; CORS
//! around all of it.
use std::{convert::Infallible, path::PathBuf, sync::Arc};

use axum::{Router, body::Body};
use http::{HeaderValue, Request, Response, header};
use tonic::service::Routes;
use tower::{
    ServiceBuilder, ServiceExt,
    steer::Steer,
    util::{BoxCloneService, BoxCloneSyncService},
};
use tower_http::{cors::CorsLayer, services::ServeDir};

use tonic_deadline::{ConcurrencyLimitLayer, DeadlineLayer, GrpcWebCors, Shutdown};

use crate::{metrics::Metrics, proto, tiers::Limits};

pub type HttpService = BoxCloneService<Request<Body>, Response<Body>, Infallible>;

/// Where the static files are; a backend tier serves none.
#[derive(Clone, Debug)]
pub struct StaticDirs {
    pub www: PathBuf,
    pub pkg: PathBuf,
}

/// Which browser origins may call: the listed ones, or loopback ones.
#[derive(Clone, Debug, Default)]
pub struct AllowedOrigins(pub Vec<HeaderValue>);

impl AllowedOrigins {
    /// tonic-deadline's gRPC-Web preset, as any user of the crate has it.
    fn layer(&self) -> CorsLayer {
        let cors = GrpcWebCors::new().setting_name("--allow-origin");
        let mut cors = if self.0.is_empty() {
            cors.allow_loopback_origins()
        } else {
            cors
        };
        for origin in &self.0 {
            // The flag's parser has checked them; a library caller's bad
            // origin allows nothing rather than everything.
            let text = String::from_utf8_lossy(origin.as_bytes());
            match cors.clone().allow_origin(&*text) {
                Ok(with) => cors = with,
                Err(e) => tracing::error!(error = %e, "ignoring an allowed origin"),
            }
        }
        cors.layer()
    }
}

fn is_grpc<B>(req: &Request<B>) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"application/grpc"))
}

/// The tier's whole HTTP surface.
pub fn service(
    tier: &str,
    routes: Routes,
    metrics: Arc<Metrics>,
    shutdown: &Shutdown,
    limits: &Limits,
    origins: &AllowedOrigins,
    static_dirs: Option<&StaticDirs>,
) -> HttpService {
    let mut deadlines = DeadlineLayer::new()
        .methods(proto::methods())
        .shutdown(shutdown)
        .max_message_bytes(limits.max_message_bytes);
    if let Some(timeout) = limits.default_timeout {
        deadlines = deadlines.default_timeout(timeout);
    }
    let concurrency = match limits.max_calls {
        Some(max) => ConcurrencyLimitLayer::total(max),
        None => ConcurrencyLimitLayer::new(), // per connection only, if at all
    };
    let grpc = ServiceBuilder::new()
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(deadlines)
        .layer(metrics.layer(tier))
        .layer(metrics.summary_layer(tier))
        .layer(metrics.stop_log().layer(tier))
        .layer(concurrency) // inside the metrics: refused calls are counted
        .service(routes);
    let grpc = ServiceExt::<Request<Body>>::map_response(grpc, |r| r.map(Body::new));

    let mut web = Router::new()
        .route_service("/metrics", metrics.endpoint())
        .route_service("/stops", metrics.stop_log().endpoint());
    if let Some(dirs) = static_dirs {
        web = web
            .nest_service("/pkg", ServeDir::new(&dirs.pkg))
            .fallback_service(ServeDir::new(&dirs.www));
    }

    let steer = Steer::new(
        [
            BoxCloneSyncService::new(grpc),
            BoxCloneSyncService::new(web),
        ],
        |req: &Request<Body>, _: &[_]| if is_grpc(req) { 0 } else { 1 },
    );
    BoxCloneService::new(ServiceBuilder::new().layer(origins.layer()).service(steer))
}
