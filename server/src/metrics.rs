//! The demo's metrics: tonic-deadline's series in one registry for
//! `/metrics`, and the per-tier summaries that the `Stats` service streams.
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use prometheus_client::registry::Registry;

use tonic_deadline::OnCallLayer;

use crate::summary::{self, TierSummary};

/// One process's series, shared by the tiers it runs.
pub struct Metrics {
    registry: Registry,
    series: tonic_deadline::Metrics,
    tiers: Mutex<BTreeMap<String, Arc<TierSummary>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let series = tonic_deadline::Metrics::register(&mut registry);
        Metrics {
            registry,
            series,
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
}
