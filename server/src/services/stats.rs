//! `Stats.Watch`: this tier's counters, followed by its upstream's, every
//! `interval_ms`: what the demo page shows beside its calls.
use std::sync::{Arc, atomic::Ordering};

use futures_util::StreamExt;
use tokio_stream::wrappers::IntervalStream;
use tonic::{Request, Response, Status};

use super::{ResponseStream, Upstream, interval};
use crate::{
    metrics::Metrics,
    proto::{
        StatsRequest, StatsSnapshot, TierStats,
        stats_client::StatsClient,
        stats_server::{Stats, StatsServer},
    },
};

/// The fully qualified service name, left out of the counters it reports.
pub const SERVICE: &str = "demo.v1.Stats";

const DEFAULT_INTERVAL_MS: u64 = 250;

pub struct StatsService {
    tier: String,
    metrics: Arc<Metrics>,
    upstream: Option<StatsClient<Upstream>>,
}

impl StatsService {
    fn own(&self) -> TierStats {
        let s = self.metrics.tier(&self.tier);
        TierStats {
            tier: self.tier.clone(),
            in_flight: s.in_flight.load(Ordering::Relaxed),
            started: s.started.load(Ordering::Relaxed),
            ok: s.ok.load(Ordering::Relaxed),
            cancelled: s.cancelled.load(Ordering::Relaxed),
            deadline_exceeded: s.deadline_exceeded.load(Ordering::Relaxed),
            last_cancel_to_stop_ms: f64::from_bits(
                s.last_cancel_to_stop_ms.load(Ordering::Relaxed),
            ),
        }
    }
}

#[tonic::async_trait]
impl Stats for Arc<StatsService> {
    type WatchStream = ResponseStream<StatsSnapshot>;

    async fn watch(
        &self,
        request: Request<StatsRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let this = self.clone();
        let stream: Self::WatchStream = match &self.upstream {
            // Each upstream snapshot is sent on with this tier's in front.
            Some(upstream) => {
                let upstream = upstream
                    .clone()
                    .watch(request.into_inner())
                    .await?
                    .into_inner();
                Box::pin(upstream.map(move |snapshot| {
                    let mut tiers = vec![this.own()];
                    tiers.extend(snapshot?.tiers);
                    Ok(StatsSnapshot { tiers })
                }))
            }
            None => {
                let period = interval(request.into_inner().interval_ms, DEFAULT_INTERVAL_MS);
                let ticks = IntervalStream::new(tokio::time::interval(period));
                Box::pin(ticks.map(move |_| {
                    Ok(StatsSnapshot {
                        tiers: vec![this.own()],
                    })
                }))
            }
        };
        Ok(Response::new(stream))
    }
}

pub fn service(
    tier: &str,
    metrics: Arc<Metrics>,
    upstream: Option<Upstream>,
) -> StatsServer<Arc<StatsService>> {
    StatsServer::new(Arc::new(StatsService {
        tier: tier.to_string(),
        metrics,
        upstream: upstream.map(StatsClient::new),
    }))
}
