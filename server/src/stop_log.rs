//! The stop log: when each of the last [`CAPACITY`] calls' work stopped, per
//! tier, on the server's wall clock, served as JSON at `/stops`. It is how
//! `cargo xtask bench` times "the page aborted → this tier's work stopped"
//! per call from the server's own clock (bench/server-clock.mjs), with no
//! observer's latency added; the Prometheus histograms cannot: they start at
//! "disconnect seen", and a histogram has no single calls.
//!
//! The demo's, not the library's: an `OnCallLayer` and `CallContext::on_stop`
//! as any user of tonic-deadline could write them. It records nothing until
//! `/stops` is first read (one relaxed atomic load per call before that), and
//! holds at most [`CAPACITY`] entries.
//!
//! `GET /stops?after=SEQ` answers `{"now_us", "last_seq", "entries": [...]}`:
//! `now_us` is the wall clock (µs since the Unix epoch) as the answer is made,
//! for a client to map its clock onto the server's the way NTP does; each
//! entry is `{"seq", "tier", "method" ("pkg.Service/Method"), "code",
//! "start_us", "stop_us", "cancel_to_stop_us" (null unless cancelled)}`, those
//! with `seq` > SEQ (all kept if `after` is absent), oldest first. A gap
//! between `after` + 1 and the first `seq` means entries were overwritten.
use std::{
    collections::VecDeque,
    convert::Infallible,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use axum::body::Body;
use http::{Request, Response, header};
use tonic_deadline::OnCallLayer;

use crate::services::stats;

/// How many calls are kept (the oldest dropped first): a bench row's calls
/// at both tiers with room to spare.
pub const CAPACITY: usize = 4096;

/// One call's stop at one tier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub tier: Arc<str>,
    /// `pkg.Service/Method`.
    pub method: String,
    pub code: i32,
    /// When the call reached the tier's layers (µs since the Unix epoch).
    pub start_us: u64,
    /// When its work stopped: the last clone of its context dropped.
    pub stop_us: u64,
    /// The tier's own "cancelled (disconnect, deadline) → stopped".
    pub cancel_to_stop_us: Option<u64>,
}

/// The ring buffer, shared by the tiers of one process.
#[derive(Default)]
pub struct StopLog {
    armed: AtomicBool,
    ring: Mutex<Ring>,
}

#[derive(Default)]
struct Ring {
    last_seq: u64,
    entries: VecDeque<Entry>,
}

/// The wall clock in µs since the Unix epoch (0 before it: a broken clock
/// shows as such in the entries rather than failing calls).
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl StopLog {
    /// Records from now on (the first read of `/stops` does this).
    pub fn arm(&self) {
        self.armed.store(true, Ordering::Relaxed);
    }

    fn push(&self, mut entry: Entry) {
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        ring.last_seq += 1;
        entry.seq = ring.last_seq;
        if ring.entries.len() == CAPACITY {
            ring.entries.pop_front();
        }
        ring.entries.push_back(entry);
    }

    /// The last sequence number given, and the entries after `after`.
    pub fn after(&self, after: u64) -> (u64, Vec<Entry>) {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let entries = ring
            .entries
            .iter()
            .filter(|e| e.seq > after)
            .cloned()
            .collect();
        (ring.last_seq, entries)
    }

    /// Logs `tier`'s calls (once armed), the `Stats` service's own left out.
    pub fn layer(self: &Arc<Self>, tier: &str) -> OnCallLayer {
        let log = self.clone();
        let tier: Arc<str> = tier.into();
        OnCallLayer::new(move |ctx| {
            if !log.armed.load(Ordering::Relaxed) || ctx.method().service == stats::SERVICE {
                return;
            }
            let start_us = now_us();
            let method = format!("{}/{}", ctx.method().service, ctx.method().method);
            let (log, tier) = (log.clone(), tier.clone());
            ctx.on_stop(move |stopped| {
                let stop_us = now_us();
                log.push(Entry {
                    seq: 0,
                    tier,
                    method,
                    code: stopped.code as i32,
                    start_us,
                    stop_us,
                    cancel_to_stop_us: stopped
                        .cancel_to_stop
                        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
                });
            });
        })
    }

    /// `GET /stops[?after=SEQ]`'s JSON (and arms the log).
    pub fn json(&self, after: u64) -> String {
        self.arm();
        let (last_seq, entries) = self.after(after);
        let entries: Vec<_> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "seq": e.seq,
                    "tier": &*e.tier,
                    "method": e.method,
                    "code": e.code,
                    "start_us": e.start_us,
                    "stop_us": e.stop_us,
                    "cancel_to_stop_us": e.cancel_to_stop_us,
                })
            })
            .collect();
        serde_json::json!({ "now_us": now_us(), "last_seq": last_seq, "entries": entries })
            .to_string()
    }

    /// The `/stops` endpoint.
    pub fn endpoint(
        self: &Arc<Self>,
    ) -> impl tower::Service<
        Request<Body>,
        Response = Response<Body>,
        Error = Infallible,
        Future = std::future::Ready<Result<Response<Body>, Infallible>>,
    > + Clone
    + Send
    + 'static {
        let log = self.clone();
        tower::service_fn(move |req: Request<Body>| {
            let response = match parse_after(req.uri().query()) {
                Ok(after) => Response::builder()
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::CACHE_CONTROL, "no-store")
                    .body(Body::from(log.json(after))),
                Err(message) => Response::builder()
                    .status(http::StatusCode::BAD_REQUEST)
                    .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                    .body(Body::from(message)),
            };
            std::future::ready(Ok(response.expect("a response of valid parts")))
        })
    }
}

/// `after=SEQ` from a query string (0, all entries, without it).
fn parse_after(query: Option<&str>) -> Result<u64, String> {
    let Some(query) = query else { return Ok(0) };
    let mut after = 0;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("after", value)) => {
                after = value
                    .parse()
                    .map_err(|_| format!("after={value:?} is not a sequence number"))?;
            }
            _ => return Err(format!("unknown query parameter {pair:?}: only after=SEQ")),
        }
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: &str) -> Entry {
        Entry {
            seq: 0,
            tier: "backend".into(),
            method: method.into(),
            code: 1,
            start_us: 1,
            stop_us: 2,
            cancel_to_stop_us: Some(1),
        }
    }

    #[test]
    fn keeps_the_last_entries_in_order_and_numbers_them() {
        let log = StopLog::default();
        for i in 0..CAPACITY + 3 {
            log.push(entry(&format!("m/{i}")));
        }
        let (last, all) = log.after(0);
        assert_eq!(last, CAPACITY as u64 + 3);
        assert_eq!(all.len(), CAPACITY);
        assert_eq!(all[0].seq, 4, "the three oldest dropped");
        assert_eq!(all[0].method, "m/3");
        let (_, tail) = log.after(last - 2);
        assert_eq!(
            tail.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [last - 1, last]
        );
    }

    #[test]
    fn the_query_is_checked() {
        assert_eq!(parse_after(None), Ok(0));
        assert_eq!(parse_after(Some("after=12")), Ok(12));
        assert!(parse_after(Some("after=-1")).unwrap_err().contains("after"));
        assert!(parse_after(Some("since=1")).unwrap_err().contains("since"));
    }

    #[test]
    fn json_carries_the_clock_and_the_entries() {
        let log = StopLog::default();
        log.push(entry("demo.v1.Greeter/SayHello"));
        let v: serde_json::Value = serde_json::from_str(&log.json(0)).unwrap();
        assert!(v["now_us"].as_u64().unwrap() > 1_600_000_000_000_000);
        assert_eq!(v["last_seq"], 1);
        assert_eq!(v["entries"][0]["method"], "demo.v1.Greeter/SayHello");
        assert_eq!(v["entries"][0]["cancel_to_stop_us"], 1);
    }
}
