//! Serving a `prometheus_client::Registry` at `/metrics`: a tower service
//! (for axum's `route_service`, hyper's `TowerToHyperService`, any tower
//! stack) and a layer that answers one path in front of a tonic server's
//! gRPC routes (`Server::builder().layer(..)`), where a route of its own
//! would be taken for a gRPC call by the layers inside.
use std::{
    convert::Infallible,
    future::{Ready, ready},
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::future::Either;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use prometheus_client::{encoding::text::encode, registry::Registry};
use tower::{Layer, Service};

/// The content type of `prometheus_client`'s text encoding.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Answers every request with the registry's series in OpenMetrics text
/// (`GET` and `HEAD`; other methods get 405).
///
/// ```
/// # async fn axum_example() {
/// use prometheus_client::registry::Registry;
/// use tonic_deadline::MetricsEndpoint;
///
/// let mut registry = Registry::default();
/// let _metrics = tonic_deadline::Metrics::register(&mut registry);
/// let endpoint = MetricsEndpoint::new(registry);
/// // axum:  Router::new().route_service("/metrics", endpoint)
/// // hyper: TowerToHyperService::new(endpoint)
/// // tonic: Server::builder().layer(endpoint.layer("/metrics"))
/// # let _ = endpoint;
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MetricsEndpoint {
    registry: Arc<Registry>,
}

impl MetricsEndpoint {
    /// Serves `registry` (a `Registry`, or an `Arc` of one you keep).
    pub fn new(registry: impl Into<Arc<Registry>>) -> Self {
        MetricsEndpoint {
            registry: registry.into(),
        }
    }

    /// The series as text, as the endpoint serves them.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }

    /// A layer that answers `path` with this endpoint and passes every
    /// other request on: for tonic's `Server::builder().layer(..)`.
    pub fn layer(self, path: &'static str) -> MetricsEndpointLayer {
        MetricsEndpointLayer {
            endpoint: self,
            path,
        }
    }

    fn respond(&self, method: &Method) -> Response<String> {
        let (status, body) = match *method {
            Method::GET => (StatusCode::OK, self.encode()),
            Method::HEAD => (StatusCode::OK, String::new()),
            _ => (StatusCode::METHOD_NOT_ALLOWED, String::new()),
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        if status == StatusCode::OK {
            let content_type = HeaderValue::from_static(OPENMETRICS_CONTENT_TYPE);
            headers.insert(header::CONTENT_TYPE, content_type);
        } else {
            headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        }
        response
    }
}

impl<B> Service<Request<B>> for MetricsEndpoint {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        ready(Ok(self.respond(req.method())))
    }
}

/// See [`MetricsEndpoint::layer`].
#[derive(Clone, Debug)]
pub struct MetricsEndpointLayer {
    endpoint: MetricsEndpoint,
    path: &'static str,
}

impl<S> Layer<S> for MetricsEndpointLayer {
    type Service = WithMetricsEndpoint<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WithMetricsEndpoint {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`MetricsEndpointLayer`] makes.
#[derive(Clone, Debug)]
pub struct WithMetricsEndpoint<S> {
    inner: S,
    layer: MetricsEndpointLayer,
}

impl<S, B> Service<Request<B>> for WithMetricsEndpoint<S>
where
    S: Service<Request<B>, Response = Response<tonic::body::Body>>,
{
    type Response = Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = Either<Ready<Result<Self::Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if req.uri().path() != self.layer.path {
            return Either::Right(self.inner.call(req));
        }
        let response = self.layer.endpoint.respond(req.method());
        Either::Left(ready(Ok(response.map(tonic::body::Body::new))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn serves_openmetrics_text_for_get_only() {
        let mut registry = Registry::default();
        let counter = prometheus_client::metrics::counter::Counter::<u64>::default();
        registry.register("answers", "test", counter.clone());
        let endpoint = MetricsEndpoint::new(registry);
        counter.inc_by(42); // after handing the registry over: served as it is now
        let get = Request::get("/metrics").body(()).unwrap();
        let response = endpoint.clone().oneshot(get).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            OPENMETRICS_CONTENT_TYPE
        );
        assert!(
            response.body().contains("\nanswers_total 42\n"),
            "{}",
            response.body()
        );
        assert!(response.body().ends_with("# EOF\n"), "{}", response.body());
        let post = Request::post("/metrics").body(()).unwrap();
        let response = endpoint.oneshot(post).await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
