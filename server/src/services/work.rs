//! `Work.Compute`: CPU-bound work in a blocking thread that checks its
//! cancellation token often enough to stop within 10 ms of a cancellation.
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::Upstream;
use tonic_deadline::CallContext;

use crate::proto::{
    ComputeReply, ComputeRequest,
    work_client::WorkClient,
    work_server::{Work, WorkServer},
};

/// Keeps one call from holding a core for days.
pub const MAX_N: u64 = 1_000_000_000_000;

/// Candidates tested between two looks at the token: far under 10 ms of
/// trial division even near `MAX_N`.
const CHECK_EVERY: u64 = 64;

/// Counts the primes below `n`, or `None` once `token` is cancelled.
pub fn count_primes(n: u64, token: &CancellationToken) -> Option<u64> {
    let mut count = 0;
    for candidate in 2..n {
        if candidate % CHECK_EVERY == 0 && token.is_cancelled() {
            return None;
        }
        if is_prime(candidate) {
            count += 1;
        }
    }
    Some(count)
}

fn is_prime(n: u64) -> bool {
    if n < 4 {
        return n >= 2;
    }
    if n.is_multiple_of(2) {
        return false;
    }
    let mut d = 3;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 2;
    }
    true
}

pub struct WorkBackend;

#[tonic::async_trait]
impl Work for WorkBackend {
    async fn compute(
        &self,
        request: Request<ComputeRequest>,
    ) -> Result<Response<ComputeReply>, Status> {
        let ctx = CallContext::of(&request)
            .ok_or_else(|| Status::internal("no call context: is the DeadlineLayer installed?"))?;
        let n = request.into_inner().n;
        if n > MAX_N {
            return Err(Status::invalid_argument(format!(
                "n must be at most {MAX_N}, got {n}"
            )));
        }
        let token = ctx.token().clone();
        // The thread holds the context, so the call counts as in flight until
        // the thread has really stopped.
        let result = tokio::task::spawn_blocking(move || {
            let _call = ctx;
            count_primes(n, &token)
        })
        .await
        .map_err(|e| Status::internal(format!("the computation failed: {e}")))?;
        match result {
            Some(result) => Ok(Response::new(ComputeReply { result })),
            // Only reached when the handler itself is still awaited.
            None => Err(Status::cancelled("the computation was cancelled")),
        }
    }
}

pub struct WorkFrontend {
    pub upstream: WorkClient<Upstream>,
}

#[tonic::async_trait]
impl Work for WorkFrontend {
    async fn compute(
        &self,
        request: Request<ComputeRequest>,
    ) -> Result<Response<ComputeReply>, Status> {
        self.upstream
            .clone()
            .compute(request.into_inner())
            .await
            .map_err(super::relay::relayed)
    }
}

pub fn backend() -> WorkServer<WorkBackend> {
    WorkServer::new(WorkBackend)
}

pub fn frontend(upstream: Upstream) -> WorkServer<WorkFrontend> {
    WorkServer::new(WorkFrontend {
        upstream: WorkClient::new(upstream).max_decoding_message_size(usize::MAX),
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn counts_primes() {
        let token = CancellationToken::new();
        assert_eq!(count_primes(0, &token), Some(0));
        assert_eq!(count_primes(3, &token), Some(1));
        assert_eq!(count_primes(100, &token), Some(25));
        assert_eq!(count_primes(100_000, &token), Some(9592));
    }

    #[test]
    fn stops_soon_after_cancellation() {
        let token = CancellationToken::new();
        let worker = {
            let token = token.clone();
            std::thread::spawn(move || {
                let result = count_primes(MAX_N, &token);
                (result, Instant::now())
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        let cancelled_at = Instant::now();
        token.cancel();
        let (result, stopped_at) = worker.join().unwrap();
        assert_eq!(result, None);
        let took = stopped_at - cancelled_at;
        assert!(took < Duration::from_millis(10), "took {took:?}");
    }
}
