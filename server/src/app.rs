//! One tier's HTTP service: gRPC (native and gRPC-Web, HTTP/1.1 and HTTP/2)
//! for requests whose content type says so, and for everything else
//! `/metrics`, the npm package at `/pkg/` and the demo page at `/`; CORS
//! around all of it.
use std::{convert::Infallible, path::PathBuf, sync::Arc};

use axum::{Router, body::Body, routing::get};
use http::{HeaderValue, Request, Response, header};
use tonic::service::Routes;
use tower::{
    ServiceBuilder, ServiceExt,
    steer::Steer,
    util::{BoxCloneService, BoxCloneSyncService},
};
use tower_http::{
    cors::{AllowHeaders, AllowOrigin, CorsLayer, ExposeHeaders},
    services::ServeDir,
};

use tonic_deadline::{ConcurrencyLimitLayer, DeadlineLayer, Shutdown};

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
    fn layer(&self) -> CorsLayer {
        let origins = match self.0.as_slice() {
            [] => AllowOrigin::predicate(|origin, _| is_loopback_origin(origin)),
            list => AllowOrigin::list(list.iter().cloned()),
        };
        // Never credentials: so `*` for headers is as narrow as it needs to be.
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([http::Method::GET, http::Method::POST])
            .allow_headers(AllowHeaders::mirror_request())
            .expose_headers(ExposeHeaders::any())
            .max_age(std::time::Duration::from_secs(3600))
    }
}

/// `http(s)://localhost`, `127.0.0.1` or `[::1]`, any port.
pub fn is_loopback_origin(origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = match rest.strip_prefix("[::1]") {
        Some(port) => return port.is_empty() || port.starts_with(':'),
        None => rest.split(':').next().unwrap_or(""),
    };
    matches!(host, "localhost" | "127.0.0.1")
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
        .layer(concurrency) // inside the metrics: refused calls are counted
        .service(routes);
    let grpc = ServiceExt::<Request<Body>>::map_response(grpc, |r| r.map(Body::new));

    let mut web = Router::new().route(
        "/metrics",
        get(move || async move {
            (
                [(
                    header::CONTENT_TYPE,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                )],
                metrics.encode(),
            )
        }),
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins_only() {
        for ok in [
            "http://localhost:3000",
            "http://127.0.0.1",
            "https://[::1]:8443",
            "http://localhost",
        ] {
            assert!(is_loopback_origin(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in [
            "http://example.com",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil",
            "null",
            "http://[::1]x",
        ] {
            assert!(!is_loopback_origin(&HeaderValue::from_static(bad)), "{bad}");
        }
    }
}
