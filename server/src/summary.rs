//! One tier's totals for the demo page's counters (`Stats.Watch`), kept by an
//! `OnCallLayer` of the demo's own, as any user could write one. `Stats`'
//! own calls are left out.
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use tonic::Code;
use tonic_deadline::{OnCallLayer, Stopped};

use crate::services::stats;

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

impl TierSummary {
    fn started(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    fn stopped(&self, stopped: &Stopped) {
        let counter = match stopped.code {
            Code::Ok => Some(&self.ok),
            Code::Cancelled => Some(&self.cancelled),
            Code::DeadlineExceeded => Some(&self.deadline_exceeded),
            _ => None,
        };
        if let Some(c) = counter {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(d) = stopped.cancel_to_stop {
            let ms = d.as_secs_f64() * 1000.0;
            self.last_cancel_to_stop_ms
                .store(ms.to_bits(), Ordering::Relaxed);
        }
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts calls into `summary`.
pub fn layer(summary: Arc<TierSummary>) -> OnCallLayer {
    OnCallLayer::new(move |ctx| {
        if ctx.method().service != stats::SERVICE {
            summary.started();
            let summary = summary.clone();
            ctx.on_stop(move |stopped| summary.stopped(stopped));
        }
    })
}
