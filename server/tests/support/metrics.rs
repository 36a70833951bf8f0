//! Reading the server's `/metrics` as a test sees it: over HTTP, as text.
//!
//! A series that is not there is an error, not 0: a test that asserts
//! "nothing started" must not pass because the series vanished (renamed, a
//! label changed). Where "not there yet" is what the claim means (no call
//! of that kind has happened), the reading says so: [`Scrape::absent_or_zero`]
//! and [`Counts::so_far`], which take only the names the server registers.
use std::net::SocketAddr;

/// One scrape of `/metrics`.
pub struct Scrape(String);

/// The series `tonic_deadline::Metrics` registers (docs/tonic-server.md).
/// prometheus-client writes a metric only once it has a sample, so an
/// absent one cannot be told from an unregistered one by the text: this
/// list keeps `absent_or_zero` from reading a misspelt name as 0.
const SERIES: [&str; 6] = [
    "grpc_server_started_total",
    "grpc_server_handled_total",
    "grpc_server_in_flight",
    "grpc_server_cancel_to_stop_seconds_count",
    "grpc_server_cancel_to_stop_seconds_sum",
    "grpc_server_cancel_to_stop_seconds_bucket",
];

impl Scrape {
    pub async fn of(addr: SocketAddr) -> Scrape {
        let (status, body) = super::http_get(addr, "/metrics").await;
        assert_eq!(status, 200);
        Scrape(body)
    }

    /// The series as the process holds them, for when it no longer serves
    /// `/metrics` (after a shutdown).
    pub fn in_process(metrics: &demo_server::metrics::Metrics) -> Scrape {
        Scrape(metrics.encode())
    }

    /// The values of every sample of `name` whose labels include all of
    /// `labels` (`key="value"` pairs).
    fn samples(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        self.0
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (series, value) = l.rsplit_once(' ')?;
                let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
                (metric == name
                    && labels
                        .iter()
                        .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
                .then(|| value.parse::<f64>().ok())?
            })
            .collect()
    }

    /// The sum of every sample of `name` with `labels`; panics, naming the
    /// series, when there is none.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let samples = self.samples(name, labels);
        assert!(
            !samples.is_empty(),
            "no series {name}{labels:?} in /metrics (a missing series is an error, not 0; \
             read one that may not exist yet with absent_or_zero):\n{}",
            self.0
        );
        samples.iter().sum()
    }

    /// Like [`sum`](Self::sum), but 0 when no sample has `labels` yet, for
    /// claims that mean "none of these happened" and for waits on a count
    /// that is to grow. `name` must be one the server registers.
    pub fn absent_or_zero(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        assert!(SERIES.contains(&name), "the server has no series {name}");
        self.samples(name, labels).iter().sum()
    }

    /// `grpc_server_handled_total` of one method at one tier, for one code;
    /// panics when no call of it has ended with that code.
    pub fn handled(&self, tier: &str, method: &str, code: &str) -> f64 {
        let mut labels = at(tier, method);
        labels.push(("grpc_code", code));
        self.sum("grpc_server_handled_total", &labels)
    }

    pub fn text(&self) -> &str {
        &self.0
    }
}

/// The series of one method at one tier.
pub fn at<'a>(tier: &'a str, method: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("tier", tier), ("grpc_method", method)]
}

/// Counters of one method at one tier that a test compares before and after.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counts {
    pub started: f64,
    pub in_flight: f64,
    pub ok: f64,
    pub canceled: f64,
    pub deadline_exceeded: f64,
    pub cancel_to_stop_count: f64,
}

impl Counts {
    /// Of a method that `tier` has started at least once: its call series
    /// must be there (a panic names the one missing). A code no call has
    /// ended with yet, or no cancellation yet, reads 0.
    pub fn of(scrape: &Scrape, tier: &str, method: &str) -> Counts {
        let l = at(tier, method);
        let code = |c| {
            let mut l = l.clone();
            l.push(("grpc_code", c));
            scrape.absent_or_zero("grpc_server_handled_total", &l)
        };
        Counts {
            started: scrape.sum("grpc_server_started_total", &l),
            in_flight: scrape.sum("grpc_server_in_flight", &l),
            ok: code("OK"),
            canceled: code("Canceled"),
            deadline_exceeded: code("DeadlineExceeded"),
            cancel_to_stop_count: scrape
                .absent_or_zero("grpc_server_cancel_to_stop_seconds_count", &l),
        }
    }

    /// Of a method that `tier` may not have started yet: all 0 until it
    /// has. For waiting until a call arrives, and for claims that a tier
    /// never saw a call (with a later call's arrival as the proof that
    /// it would have by then).
    pub fn so_far(scrape: &Scrape, tier: &str, method: &str) -> Counts {
        let started = scrape.absent_or_zero("grpc_server_started_total", &at(tier, method));
        if started == 0.0 {
            return Counts {
                started,
                in_flight: scrape.absent_or_zero("grpc_server_in_flight", &at(tier, method)),
                ok: 0.0,
                canceled: 0.0,
                deadline_exceeded: 0.0,
                cancel_to_stop_count: 0.0,
            };
        }
        Counts::of(scrape, tier, method)
    }
}
