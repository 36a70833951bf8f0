//! The demo's metrics: tonic-deadline's series in one registry for
//! `/metrics`, the per-tier summaries that the `Stats` service streams, and
//! the stop log (`/stops`).
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use prometheus_client::registry::Registry;

use tonic_deadline::{MetricsEndpoint, OnCallLayer};

use crate::{
    stop_log::StopLog,
    summary::{self, TierSummary},
};

/// One process's series, shared by the tiers it runs.
pub struct Metrics {
    endpoint: MetricsEndpoint,
    series: tonic_deadline::Metrics,
    tiers: Mutex<BTreeMap<String, Arc<TierSummary>>>,
    stops: Arc<StopLog>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let series = tonic_deadline::Metrics::register(&mut registry);
        Metrics {
            endpoint: MetricsEndpoint::new(registry),
            series,
            tiers: Mutex::default(),
            stops: Arc::default(),
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition of every series.
    pub fn encode(&self) -> String {
        self.endpoint.encode()
    }

    /// `/metrics`: tonic-deadline's endpoint over the process's registry.
    pub fn endpoint(&self) -> MetricsEndpoint {
        self.endpoint.clone()
    }

    /// The series as `tier` records them.
    pub fn layer(&self, tier: &str) -> OnCallLayer {
        self.series.layer(tier)
    }

    /// The summary of `tier` (created empty on first use).
    pub fn tier(&self, tier: &str) -> Arc<TierSummary> {
        let mut tiers = self.tiers.lock().unwrap_or_else(|e| e.into_inner());
        tiers.entry(tier.to_string()).or_default().clone()
    }

    /// The layer that keeps `tier`'s summary.
    pub fn summary_layer(&self, tier: &str) -> OnCallLayer {
        summary::layer(self.tier(tier))
    }

    /// When the process's calls stopped, per tier (`/stops`).
    pub fn stop_log(&self) -> &Arc<StopLog> {
        &self.stops
    }
}
