//! `Work.Compute`: CPU-bound work in a blocking thread that checks its
//! cancellation token often enough to stop within 10 ms of a cancellation.
use tokio::sync::{Semaphore, oneshot};
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

/// Runs CPU-bound `work` on a thread of its own, at a lower scheduling
/// priority than the runtime's threads (nice +10 on Linux): on a busy
/// machine the I/O threads that notice a client's disconnect then get a core
/// at once, rather than queueing behind the very computation the disconnect
/// is to cancel. Not tokio's blocking pool: its threads also serve the file
/// reads of the page, and a thread once niced cannot be raised back by an
/// unprivileged process. At most [`MAX_THREADS`] at once, as tokio's pool:
/// more wait for a turn (cancellably).
async fn spawn_low_priority<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<oneshot::Receiver<T>> {
    static THREADS: Semaphore = Semaphore::const_new(MAX_THREADS);
    let turn = THREADS.acquire().await.expect("never closed");
    let (send, receive) = oneshot::channel();
    std::thread::Builder::new()
        .name("compute".into())
        .spawn(move || {
            let _turn = turn;
            lower_priority();
            // The receiver is gone only if the handler was dropped: nothing to tell.
            let _ = send.send(work());
        })?;
    Ok(receive)
}

/// Tokio's own default cap on blocking threads.
const MAX_THREADS: usize = 512;

#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: plain system calls on the calling thread. On Linux a nice value
    // is per thread (`PRIO_PROCESS` with this thread's id); a failure leaves
    // the thread at the default priority, which only costs latency.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        let nice = libc::getpriority(libc::PRIO_PROCESS, tid);
        libc::setpriority(libc::PRIO_PROCESS, tid, (nice + 10).min(19));
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

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
        let result = spawn_low_priority(move || {
            let _call = ctx;
            count_primes(n, &token)
        })
        .await
        .map_err(|e| Status::internal(format!("the computation could not start: {e}")))?
        .await
        .map_err(|_| Status::internal("the computation failed"))?;
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

/// `max_reply_bytes`: the most bytes an upstream reply message may have.
pub fn frontend(upstream: Upstream, max_reply_bytes: usize) -> WorkServer<WorkFrontend> {
    WorkServer::new(WorkFrontend {
        upstream: WorkClient::new(upstream).max_decoding_message_size(max_reply_bytes),
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

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn computations_run_on_their_own_thread_below_the_runtimes_priority() {
        let own = || {
            // SAFETY: plain system calls about the calling thread.
            unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
        };
        let runtime = own();
        let (name, nice) = spawn_low_priority(move || {
            let name = std::thread::current().name().map(str::to_owned);
            (name, own())
        })
        .await
        .unwrap()
        .await
        .unwrap();
        assert_eq!(name.as_deref(), Some("compute"));
        assert_eq!(nice, (runtime + 10).min(19));
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
