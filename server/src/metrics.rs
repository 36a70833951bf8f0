//! The Prometheus series, named after go-grpc-prometheus, every one labelled
//! with the tier that served the call; and the per-tier summary that the
//! `Stats` service streams to the demo page.
use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

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

use crate::methods::Method;

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

/// One process's series, shared by the tiers it runs.
pub struct Metrics {
    registry: Registry,
    started: Family<CallLabels, Counter>,
    handled: Family<HandledLabels, Counter>,
    in_flight: Family<CallLabels, Gauge>,
    cancel_to_stop: Family<CallLabels, Histogram>,
    tiers: Mutex<BTreeMap<String, Arc<TierSummary>>>,
}

/// Totals of one tier, without the `Stats` service's own calls.
#[derive(Default)]
pub struct TierSummary {
    pub in_flight: AtomicU64,
    pub started: AtomicU64,
    pub ok: AtomicU64,
    pub cancelled: AtomicU64,
    pub deadline_exceeded: AtomicU64,
    /// f64 bits of the last cancel-to-stop time in milliseconds.
    pub last_cancel_to_stop_ms: AtomicU64,
}

fn cancel_to_stop_histogram() -> Histogram {
    // 0.5 ms .. ~4 s: blocking work must stop within 10 ms.
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let started = Family::<CallLabels, Counter>::default();
        let handled = Family::<HandledLabels, Counter>::default();
        let in_flight = Family::<CallLabels, Gauge>::default();
        let cancel_to_stop = Family::<CallLabels, Histogram>::new_with_constructor(
            cancel_to_stop_histogram as fn() -> Histogram,
        );
        registry.register(
            "grpc_server_started",
            "RPCs started on the server",
            started.clone(),
        );
        registry.register(
            "grpc_server_handled",
            "RPCs completed on the server, by gRPC status code",
            handled.clone(),
        );
        registry.register(
            "grpc_server_in_flight",
            "RPCs whose work has not stopped yet",
            in_flight.clone(),
        );
        registry.register(
            "grpc_server_cancel_to_stop_seconds",
            "From a call's cancellation (disconnect or deadline) to its work having stopped",
            cancel_to_stop.clone(),
        );
        Metrics {
            registry,
            started,
            handled,
            in_flight,
            cancel_to_stop,
            tiers: Mutex::default(),
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition of every series.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// The summary of `tier` (created empty on first use).
    pub fn tier(&self, tier: &str) -> Arc<TierSummary> {
        let mut tiers = self.tiers.lock().unwrap_or_else(|e| e.into_inner());
        tiers.entry(tier.to_string()).or_default().clone()
    }

    /// The handle a call records itself through.
    pub(crate) fn call(self: &Arc<Self>, tier: &str, method: &Method) -> CallMetrics {
        CallMetrics {
            labels: CallLabels {
                tier: tier.to_string(),
                grpc_service: method.service.clone(),
                grpc_method: method.method.clone(),
                grpc_type: method.kind.as_str().to_string(),
            },
            // The demo page's own counters would only count themselves.
            summary: (!method.is_stats()).then(|| self.tier(tier)),
            metrics: self.clone(),
        }
    }
}

/// One call's series.
pub(crate) struct CallMetrics {
    metrics: Arc<Metrics>,
    labels: CallLabels,
    summary: Option<Arc<TierSummary>>,
}

impl CallMetrics {
    pub(crate) fn started(&self) {
        self.metrics.started.get_or_create(&self.labels).inc();
        self.metrics.in_flight.get_or_create(&self.labels).inc();
        if let Some(s) = &self.summary {
            s.started.fetch_add(1, Ordering::Relaxed);
            s.in_flight.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn stopped(&self, code: Code, cancel_to_stop: Option<Duration>) {
        let handled = HandledLabels {
            call: self.labels.clone(),
            grpc_code: code_name(code).to_string(),
        };
        self.metrics.handled.get_or_create(&handled).inc();
        if let Some(d) = cancel_to_stop {
            self.metrics
                .cancel_to_stop
                .get_or_create(&self.labels)
                .observe(d.as_secs_f64());
        }
        self.metrics.in_flight.get_or_create(&self.labels).dec();
        if let Some(s) = &self.summary {
            let counter = match code {
                Code::Ok => Some(&s.ok),
                Code::Cancelled => Some(&s.cancelled),
                Code::DeadlineExceeded => Some(&s.deadline_exceeded),
                _ => None,
            };
            if let Some(c) = counter {
                c.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(d) = cancel_to_stop {
                let ms = d.as_secs_f64() * 1000.0;
                s.last_cancel_to_stop_ms
                    .store(ms.to_bits(), Ordering::Relaxed);
            }
            s.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
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
