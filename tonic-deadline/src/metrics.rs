//! The Prometheus series, named after go-grpc-prometheus, in the user's own
//! `prometheus_client::Registry`; every series labelled with the tier the
//! user names and the method's service, name and shape.
//!
//! A separate layer, inside the [`DeadlineLayer`](crate::DeadlineLayer): it
//! counts what the deadline layer's [`CallContext`] reports, so a call is
//! "handled" when its work has stopped, blocking work included.
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use tonic::Code;

use crate::{
    context::{CallContext, Stopped},
    on_call::OnCallLayer,
};

/// The labels of every series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    pub tier: String,
    pub grpc_service: String,
    pub grpc_method: String,
    pub grpc_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandledLabels {
    #[prometheus(flatten)]
    call: CallLabels,
    grpc_code: String,
}

/// The series, registered once; layers of several tiers may share them.
#[derive(Clone)]
pub struct Metrics {
    started: Family<CallLabels, Counter>,
    handled: Family<HandledLabels, Counter>,
    in_flight: Family<CallLabels, Gauge>,
    cancel_to_stop: Family<CallLabels, Histogram>,
}

fn cancel_to_stop_histogram() -> Histogram {
    // 0.5 ms .. ~4 s: blocking work should stop within 10 ms.
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

impl Metrics {
    /// Registers `grpc_server_started_total`, `grpc_server_handled_total`,
    /// `grpc_server_in_flight` and `grpc_server_cancel_to_stop_seconds`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Metrics {
            started: Family::default(),
            handled: Family::default(),
            in_flight: Family::default(),
            cancel_to_stop: Family::new_with_constructor(cancel_to_stop_histogram),
        };
        registry.register(
            "grpc_server_started",
            "RPCs started on the server",
            metrics.started.clone(),
        );
        registry.register(
            "grpc_server_handled",
            "RPCs completed on the server, by gRPC status code",
            metrics.handled.clone(),
        );
        registry.register(
            "grpc_server_in_flight",
            "RPCs whose work has not stopped yet",
            metrics.in_flight.clone(),
        );
        registry.register(
            "grpc_server_cancel_to_stop_seconds",
            "From a call's cancellation (disconnect, deadline, shutdown) to its work having stopped",
            metrics.cancel_to_stop.clone(),
        );
        metrics
    }

    /// A layer that counts calls as `tier`; install it inside the
    /// [`DeadlineLayer`](crate::DeadlineLayer).
    pub fn layer(&self, tier: &str) -> OnCallLayer {
        let (metrics, tier) = (self.clone(), tier.to_string());
        OnCallLayer::new(move |ctx| metrics.record(ctx, &tier))
    }

    fn record(&self, ctx: &CallContext, tier: &str) {
        let method = ctx.method();
        let labels = CallLabels {
            tier: tier.to_string(),
            grpc_service: method.service.clone(),
            grpc_method: method.method.clone(),
            grpc_type: method.kind.as_str().to_string(),
        };
        self.started.get_or_create(&labels).inc();
        self.in_flight.get_or_create(&labels).inc();
        let metrics = self.clone();
        ctx.on_stop(move |stopped: &Stopped| metrics.stopped(labels, stopped));
    }

    fn stopped(&self, labels: CallLabels, stopped: &Stopped) {
        if let Some(d) = stopped.cancel_to_stop {
            self.cancel_to_stop
                .get_or_create(&labels)
                .observe(d.as_secs_f64());
        }
        self.in_flight.get_or_create(&labels).dec();
        let handled = HandledLabels {
            call: labels,
            grpc_code: code_name(stopped.code).to_string(),
        };
        self.handled.get_or_create(&handled).inc();
    }
}

/// A status code as go-grpc-prometheus writes it (`OK`, `Canceled`, ...).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}
