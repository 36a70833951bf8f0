//! `Updates.Watch`: the backend ticks out updates, the frontend relays them.
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use tokio_stream::wrappers::IntervalStream;
use tonic::{Request, Response, Status};

use super::{ResponseStream, Upstream, interval, relay};
use crate::proto::{
    Update, WatchRequest,
    updates_client::UpdatesClient,
    updates_server::{Updates, UpdatesServer},
};

const DEFAULT_INTERVAL_MS: u64 = 1000;

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

pub struct UpdatesBackend;

#[tonic::async_trait]
impl Updates for UpdatesBackend {
    type WatchStream = ResponseStream<Update>;

    async fn watch(
        &self,
        request: Request<WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let WatchRequest {
            topic,
            interval_ms,
            limit,
            after_seq,
        } = request.into_inner();
        let topic = if topic.is_empty() {
            "news".to_string()
        } else {
            topic
        };
        let Some(first) = after_seq.checked_add(1) else {
            return Err(Status::out_of_range(
                "after_seq: no update comes after the largest sequence number",
            ));
        };
        let ticks = IntervalStream::new(tokio::time::interval(interval(
            interval_ms,
            DEFAULT_INTERVAL_MS,
        )));
        let updates = ticks
            // A resumed stream goes on after the last update its client saw:
            // the numbering comes from the request, so it survives a restart.
            .zip(futures_util::stream::iter(first..=u64::MAX))
            .map(move |(_, seq)| {
                Ok(Update {
                    topic: topic.clone(),
                    seq,
                    text: format!("{topic} update #{seq}"),
                    sent_at_ms: now_ms(),
                })
            });
        let stream: Self::WatchStream = match limit {
            0 => Box::pin(updates),
            n => Box::pin(updates.take(n as usize)),
        };
        Ok(Response::new(stream))
    }
}

pub struct UpdatesFrontend {
    pub upstream: UpdatesClient<Upstream>,
}

#[tonic::async_trait]
impl Updates for UpdatesFrontend {
    type WatchStream = ResponseStream<Update>;

    async fn watch(
        &self,
        request: Request<WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let upstream = self
            .upstream
            .clone()
            .watch(request.into_inner())
            .await
            .map_err(relay::relayed)?;
        Ok(Response::new(Box::pin(relay::relay_stream(
            upstream.into_inner(),
        ))))
    }
}

pub fn backend() -> UpdatesServer<UpdatesBackend> {
    UpdatesServer::new(UpdatesBackend)
}

/// `max_reply_bytes`: the most bytes an upstream reply message may have.
pub fn frontend(upstream: Upstream, max_reply_bytes: usize) -> UpdatesServer<UpdatesFrontend> {
    UpdatesServer::new(UpdatesFrontend {
        upstream: UpdatesClient::new(upstream).max_decoding_message_size(max_reply_bytes),
    })
}
