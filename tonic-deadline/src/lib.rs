//! Deadlines and cancellation for [tonic] servers, the way gRPC means them.
//!
//! - **[`DeadlineLayer`]**: every call gets a [`CallContext`] with its
//!   deadline (from `grpc-timeout`) and a cancellation token that fires at
//!   the deadline, when the client goes away (RST_STREAM of any code, a
//!   closed connection, also before the request has fully arrived), when the
//!   server shuts down, or when the call ends. At the deadline the call ends
//!   with DEADLINE_EXCEEDED (tonic's own timeout answers CANCELLED); a
//!   malformed `grpc-timeout` is INVALID_ARGUMENT before the handler runs.
//! - **[`Propagate`]**: wrap an outgoing client's transport once (a tonic
//!   [`Channel`](tonic::transport::Channel) or the [`Http2Client`]), and every
//!   call a handler makes carries its remaining deadline and is reset when
//!   the handler's call is cancelled or ends. [`detached`] opts a call out.
//!   A broken connection or a proxy's error page (`502 Bad Gateway`) ends an
//!   upstream call with UNAVAILABLE, not INTERNAL; a status whose
//!   `grpc-status-details-bin` is not base64 (tonic's client panics on it)
//!   with INTERNAL.
//! - **[`Metrics`]** (optional): go-grpc-prometheus' series in your own
//!   `prometheus_client::Registry`, through [`Metrics::layer`]; [`OnCallLayer`] for
//!   counting of your own; [`MetricsEndpoint`] serves a registry at
//!   `/metrics` (tonic, axum or hyper). With the feature `opentelemetry`,
//!   `OtelMetrics`: gRFC A66's metrics, and W3C trace context carried on
//!   by [`Propagate`].
//! - **[`GrpcWebCors`]**: CORS for browsers on other origins, so that their
//!   calls get through and their errors arrive as sent.
//! - **[`Shutdown`]**: on SIGTERM or Ctrl-C, an optional lameduck (health
//!   NOT_SERVING, calls still served), then stop accepting, let unary calls
//!   drain, end streams at once with UNAVAILABLE.
//! - **[`Health`]**: `grpc.health.v1.Health` (tonic-health) that turns
//!   NOT_SERVING when the shutdown is asked for, for Kubernetes' gRPC probes
//!   and load balancers; **[`Balanced`]**: an upstream client that spreads
//!   calls per call over every address of a name (a headless Service).
//! - **Limits that answer**: [`DeadlineLayer::max_message_bytes`] and
//!   [`ConcurrencyLimitLayer`] (in total and [`PerConnection`]) end a call
//!   with RESOURCE_EXHAUSTED naming the limit, never queue it;
//!   [`DeadlineLayer::default_timeout`] bounds calls that carry no deadline.
//!
//! # A server
//!
//! ```
//! use std::time::Duration;
//! use prometheus_client::registry::Registry;
//! use tonic::{service::Routes, transport::Server};
//! use tonic_deadline::{DeadlineLayer, GrpcWebCors, Methods, Metrics, MetricsEndpoint, Shutdown};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut registry = Registry::default();
//! let metrics = Metrics::register(&mut registry);
//! let shutdown = Shutdown::new(Duration::from_secs(5));
//! let deadlines = DeadlineLayer::new()
//!     .methods(Methods::default()) // or Methods::from_descriptor_set(..) for grpc_type
//!     .shutdown(&shutdown);
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # shutdown.begin(); // so that this example ends
//! Server::builder()
//!     .accept_http1(true)                        // for gRPC-Web over HTTP/1.1
//!     .layer(GrpcWebCors::new().allow_origin("https://app.example.com")?.layer())
//!     .layer(MetricsEndpoint::new(registry).layer("/metrics"))
//!     .layer(tonic_web::GrpcWebLayer::new())    // tonic-web outside,
//!     .layer(deadlines)                          // then the deadlines,
//!     .layer(metrics.layer("frontend"))          // then the counting
//!     .add_routes(Routes::default())             // your services here
//!     .serve_with_incoming_shutdown(
//!         tokio_stream::wrappers::TcpListenerStream::new(listener),
//!         shutdown.begun(),                      // or: shutdown.on_signal()
//!     )
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # A handler
//!
//! ```
//! use tonic::{Request, Status};
//! use tonic_deadline::CallContext;
//!
//! async fn count(request: Request<u64>) -> Result<u64, Status> {
//!     let ctx = CallContext::of(&request).expect("the DeadlineLayer is installed");
//!     let token = ctx.token().clone(); // fires at the deadline, on disconnect, at shutdown
//!     let n = request.into_inner();
//!     // Blocking work checks the token; holding `ctx` keeps the call
//!     // "in flight" in the metrics until the thread has really stopped.
//!     tokio::task::spawn_blocking(move || {
//!         let _call = ctx;
//!         (0..n).take_while(|_| !token.is_cancelled()).count() as u64
//!     })
//!     .await
//!     .map_err(|e| Status::internal(e.to_string()))
//! }
//! ```
//!
//! # Upstream calls
//!
//! ```
//! use tonic::transport::Channel;
//! use tonic_deadline::{Http2Client, Propagate, detached};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower::BoxError> {
//! // Over tonic's Channel (its own timer fires with ours: a DEADLINE_EXCEEDED
//! // at the caller, which Propagate reports as such) ...
//! let channel = Propagate::new(Channel::from_static("http://127.0.0.1:50051").connect_lazy());
//! // ... or over h2c, which leaves each tier to enforce its own deadline.
//! let h2c = Http2Client::new("http://127.0.0.1:50051".parse()?)?.propagating();
//! // Generated clients take either: `GreeterClient::new(channel)`.
//! # let _ = (channel, h2c);
//! // A call that must outlive the handler's call:
//! let audit = detached(async { /* client.log(..).await */ });
//! # audit.await;
//! # Ok(())
//! # }
//! ```
//!
//! # Health checks, a lameduck, balancing
//!
//! ```
//! use std::time::Duration;
//! use tonic_deadline::{Balanced, DeadlineLayer, Health, Methods, Shutdown};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower::BoxError> {
//! // On SIGTERM: 5 s of NOT_SERVING (still serving), then GOAWAY and 10 s of drain.
//! let shutdown = Shutdown::new(Duration::from_secs(10)).with_lameduck(Duration::from_secs(5));
//! let (health, health_service) = Health::new(&shutdown); // "" is SERVING
//! health.set_service_serving("shop.v1.Cart").await;       // or set_serving::<CartServer<_>>()
//! // Add `health_service` to the routes; the deadline layer learns that
//! // `Watch` is a stream (it ends when the lameduck is over):
//! let deadlines = DeadlineLayer::new()
//!     .methods(Methods::default().and(Health::methods()))
//!     .shutdown(&shutdown);
//! // Upstream calls spread per call over every backend a name resolves to,
//! // resolved again every 5 s; a backend NOT_SERVING or gone is left out.
//! let upstream = Balanced::new(["http://backends:8081".parse()?], Duration::from_secs(5))?
//!     .propagating();
//! # let _ = (health_service, deadlines, upstream);
//! # Ok(())
//! # }
//! ```
//!
//! # Many aborts at once
//!
//! A browser page that leaves aborts all its calls together, and a frontend
//! relays those resets to its backend over one HTTP/2 connection. The `h2`
//! crate closes a connection (GOAWAY) on which more than 20 streams were reset
//! before the server accepted them, failing every other call on it; raise
//! that bound to the streams a connection may carry (the demo server does):
//!
//! ```
//! let server = tonic::transport::Server::builder()
//!     .http2_max_pending_accept_reset_streams(Some(1_000));
//! # let _ = server;
//! ```
//!
//! Follow one cancellation by file: [`deadline`](DeadlineLayer) (parses
//! `grpc-timeout`, enforces it, notices the disconnect) → `request_body`
//! (a client that leaves mid-request) → [`context`](CallContext) (the
//! handler's view) → [`propagate`](Propagate) (upstream calls inherit it) →
//! [`metrics`](Metrics) (what the server observed).
mod balance;
mod context;
mod cors;
mod deadline;
mod discover;
mod endpoint;
mod first_byte;
mod grpc_status;
mod health;
mod limit;
mod methods;
mod metrics;
mod metrics_endpoint;
mod on_call;
#[cfg(feature = "opentelemetry")]
mod otel;
mod propagate;
mod request_body;
mod shutdown;
mod upstream;
mod upstream_answer;
mod windows;

pub use balance::{Balanced, DEFAULT_REFRESH};
pub use context::{CallContext, CancelReason, DISCONNECT_TOLERANCE, Stopped, detached};
pub use cors::{
    CorsSettingError, DEFAULT_MAX_AGE, GRPC_WEB_EXPOSED_HEADERS, GRPC_WEB_REQUEST_HEADERS,
    GrpcWebCors, is_loopback_origin,
};
pub use deadline::{Deadline, DeadlineLayer};
pub use first_byte::{FirstByteTimeout, first_byte_timeout};
pub use health::Health;
pub use limit::{ConcurrencyLimit, ConcurrencyLimitLayer, PerConnection};
pub use methods::{Method, MethodKind, Methods};
pub use metrics::{CallLabels, Metrics, code_name};
pub use metrics_endpoint::{
    MetricsEndpoint, MetricsEndpointLayer, OPENMETRICS_CONTENT_TYPE, WithMetricsEndpoint,
};
pub use on_call::{OnCall, OnCallLayer};
#[cfg(feature = "opentelemetry")]
pub use otel::{OtelMetrics, OtelMetricsLayer, OtelMetricsService, status_name};
pub use propagate::{Propagate, PropagateLayer, TRANSIT_ALLOWANCE};
pub use shutdown::{DEFAULT_DRAIN_TIMEOUT, Shutdown, signal};
pub use upstream::Http2Client;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
