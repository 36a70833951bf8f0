//! Reading the server's `/metrics` as a test sees it: over HTTP, as text.
use std::net::SocketAddr;

use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;

/// One scrape of `/metrics`.
pub struct Scrape(String);

impl Scrape {
    pub async fn of(addr: SocketAddr) -> Scrape {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let req = http::Request::get("/metrics")
            .header("host", addr.to_string())
            .body(Empty::<bytes::Bytes>::new())
            .unwrap();
        let res = send.send_request(req).await.unwrap();
        assert_eq!(res.status(), 200);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        Scrape(String::from_utf8(body.to_vec()).unwrap())
    }

    /// The sum of every sample of `name` whose labels include all of `labels`
    /// (`key="value"` pairs); 0 when there is none.
    /// The series as the process holds them, for when it no longer serves
    /// `/metrics` (after a shutdown).
    pub fn in_process(metrics: &demo_server::metrics::Metrics) -> Scrape {
        Scrape(metrics.encode())
    }

    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
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
            .sum()
    }

    /// `grpc_server_handled_total` of one method at one tier, for one code.
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
    pub fn of(scrape: &Scrape, tier: &str, method: &str) -> Counts {
        let l = at(tier, method);
        let code = |c| {
            let mut l = l.clone();
            l.push(("grpc_code", c));
            scrape.sum("grpc_server_handled_total", &l)
        };
        Counts {
            started: scrape.sum("grpc_server_started_total", &l),
            in_flight: scrape.sum("grpc_server_in_flight", &l),
            ok: code("OK"),
            canceled: code("Canceled"),
            deadline_exceeded: code("DeadlineExceeded"),
            cancel_to_stop_count: scrape.sum("grpc_server_cancel_to_stop_seconds_count", &l),
        }
    }
}
