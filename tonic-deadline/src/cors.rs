//! CORS for gRPC-Web: a preset over tower-http's [`CorsLayer`] with what a
//! browser's gRPC-Web call needs, so that neither of the two easy mistakes
//! can happen. Each looks like another fault in the browser:
//!
//! - an origin not allowed: the page sees a failed `fetch`, like a server
//!   that is down (so the server logs each refused origin once, naming the
//!   setting that would allow it);
//! - `grpc-status`/`grpc-message` not exposed: successful calls work, but
//!   every server error reaches the page as "no grpc-status" instead of its
//!   own code and message.
//!
//! Origins are always a list (or loopback ones): never `*`, so allowing
//! credentials stays safe.
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use http::{HeaderName, HeaderValue, Method, header, request::Parts};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// What a gRPC-Web request carries besides the app's own metadata (a
/// retried call says how many attempts went before it, as gRFC A6 has it).
pub const GRPC_WEB_REQUEST_HEADERS: [&str; 5] = [
    "content-type",
    "x-grpc-web",
    "x-user-agent",
    "grpc-timeout",
    "grpc-previous-rpc-attempts",
];

/// What the page must be able to read of a response for errors to arrive
/// with their own code and message, and for a retry to honour the
/// server's pushback.
pub const GRPC_WEB_EXPOSED_HEADERS: [&str; 4] = [
    "grpc-status",
    "grpc-message",
    "grpc-status-details-bin",
    "grpc-retry-pushback-ms",
];

/// How long a browser may cache a preflight's answer unless told otherwise.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);

/// Refused origins remembered (to log each once); past this, no more logging.
const REMEMBERED_REFUSALS: usize = 1024;

/// The CORS policy of a gRPC-Web server; [`GrpcWebCors::layer`] makes the
/// tower-http layer. Install it outside `tonic_web::GrpcWebLayer`:
///
/// ```
/// use tonic_deadline::GrpcWebCors;
///
/// let cors = GrpcWebCors::new()
///     .allow_origin("https://app.example.com")?
///     .allow_request_headers(["authorization"])?   // the app's own metadata
///     .expose_headers(["x-request-id"])?           // read in onHeader/onTrailer
///     .layer();
/// let server = tonic::transport::Server::builder()
///     .accept_http1(true)
///     .layer(cors)
///     .layer(tonic_web::GrpcWebLayer::new());
/// # let _ = server;
/// # Ok::<(), tonic_deadline::CorsSettingError>(())
/// ```
#[derive(Clone, Debug)]
pub struct GrpcWebCors {
    origins: Vec<HeaderValue>,
    loopback: bool,
    request_headers: Vec<HeaderName>,
    exposed_headers: Vec<HeaderName>,
    max_age: Duration,
    credentials: bool,
    setting: String,
}

impl Default for GrpcWebCors {
    fn default() -> Self {
        GrpcWebCors::new()
    }
}

impl GrpcWebCors {
    /// No origin allowed yet; gRPC-Web's headers, no credentials, a max-age
    /// of [`DEFAULT_MAX_AGE`].
    pub fn new() -> Self {
        GrpcWebCors {
            origins: Vec::new(),
            loopback: false,
            request_headers: GRPC_WEB_REQUEST_HEADERS
                .map(HeaderName::from_static)
                .to_vec(),
            exposed_headers: GRPC_WEB_EXPOSED_HEADERS
                .map(HeaderName::from_static)
                .to_vec(),
            max_age: DEFAULT_MAX_AGE,
            credentials: false,
            setting: "GrpcWebCors::allow_origin".into(),
        }
    }

    /// Allows the page at `origin` (`scheme://host[:port]`, as browsers send
    /// it) to call. `*` is refused: list the origins.
    pub fn allow_origin(mut self, origin: impl AsRef<str>) -> Result<Self, CorsSettingError> {
        let origin = origin.as_ref();
        let valid = origin.split_once("://").is_some_and(|(scheme, host)| {
            !scheme.is_empty() && !host.is_empty() && !host.contains('/')
        });
        let value = HeaderValue::from_str(origin).ok().filter(|_| valid);
        let Some(value) = value else {
            return Err(CorsSettingError(format!(
                "{origin:?} is not an origin like https://app.example.com (a list of origins, never *)"
            )));
        };
        self.origins.push(value);
        Ok(self)
    }

    /// Allows each of `origins`; see [`allow_origin`](Self::allow_origin).
    pub fn allow_origins<I>(self, origins: I) -> Result<Self, CorsSettingError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        origins.into_iter().try_fold(self, Self::allow_origin)
    }

    /// Allows pages on `localhost`, `127.0.0.1` and `[::1]`, any port and
    /// scheme: for development.
    pub fn allow_loopback_origins(mut self) -> Self {
        self.loopback = true;
        self
    }

    /// Request metadata the app sends besides gRPC-Web's own headers
    /// (e.g. `authorization`).
    pub fn allow_request_headers<I>(mut self, names: I) -> Result<Self, CorsSettingError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for name in names {
            self.request_headers.push(header_name(name.as_ref())?);
        }
        Ok(self)
    }

    /// Response metadata the page reads besides `grpc-status`,
    /// `grpc-message` and `grpc-status-details-bin`.
    pub fn expose_headers<I>(mut self, names: I) -> Result<Self, CorsSettingError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for name in names {
            self.exposed_headers.push(header_name(name.as_ref())?);
        }
        Ok(self)
    }

    /// How long browsers may cache a preflight's answer.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Lets pages send cookies or HTTP authentication (`credentials:
    /// "include"` on their side). Safe here: origins are always listed.
    pub fn allow_credentials(mut self, allow: bool) -> Self {
        self.credentials = allow;
        self
    }

    /// How the log line for a refused origin names the setting that would
    /// allow it, e.g. a command-line flag (`--allow-origin`).
    pub fn setting_name(mut self, setting: impl Into<String>) -> Self {
        self.setting = setting.into();
        self
    }

    /// The tower-http layer.
    pub fn layer(self) -> CorsLayer {
        let GrpcWebCors {
            origins,
            loopback,
            request_headers,
            exposed_headers,
            max_age,
            credentials,
            setting,
        } = self;
        let refused = Refusals {
            seen: Arc::default(),
            setting: setting.into(),
        };
        let allow = AllowOrigin::predicate(move |origin, parts| {
            let allowed = origins.contains(origin) || (loopback && is_loopback_origin(origin));
            if !allowed && !is_same_origin(origin, parts) {
                refused.log_once(origin);
            }
            allowed
        });
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::POST, Method::GET, Method::OPTIONS])
            .allow_headers(request_headers)
            .expose_headers(exposed_headers)
            .max_age(max_age)
            .allow_credentials(credentials)
    }
}

/// A CORS setting that cannot be right, naming the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsSettingError(String);

impl std::fmt::Display for CorsSettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CorsSettingError {}

fn header_name(name: &str) -> Result<HeaderName, CorsSettingError> {
    match name {
        "*" => Err(CorsSettingError(
            "\"*\" is no header name: list the headers".into(),
        )),
        _ => HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| CorsSettingError(format!("{name:?} is not a header name"))),
    }
}

/// The refused origins logged so far.
#[derive(Clone)]
struct Refusals {
    seen: Arc<Mutex<HashSet<HeaderValue>>>,
    setting: Arc<str>,
}

impl Refusals {
    fn log_once(&self, origin: &HeaderValue) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= REMEMBERED_REFUSALS || !seen.insert(origin.clone()) {
            return;
        }
        let origin = String::from_utf8_lossy(origin.as_bytes());
        tracing::warn!(
            %origin,
            setting = %self.setting,
            "CORS: refused a browser call from origin {origin}; allow it with {} {origin} \
             (the page sees only a failed fetch)",
            self.setting,
        );
    }
}

/// Whether the page is on the server's own origin (browsers send `Origin`
/// on same-origin POSTs too): no CORS needed, nothing to log.
fn is_same_origin(origin: &HeaderValue, parts: &Parts) -> bool {
    let Some(authority) = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, authority)| authority)
    else {
        return false;
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    host.is_some_and(|host| {
        host.eq_ignore_ascii_case(authority)
            || [":80", ":443"]
                .iter()
                .any(|port| host.strip_suffix(port) == Some(authority))
    })
}

/// `http(s)://localhost`, `127.0.0.1` or `[::1]`, any port.
pub fn is_loopback_origin(origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let (host, port) = match rest.strip_prefix("[::1]") {
        Some(port) => ("[::1]", port),
        None => rest.split_at(rest.find(':').unwrap_or(rest.len())),
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok && matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins_only() {
        for ok in [
            "http://localhost:3000",
            "http://127.0.0.1",
            "https://[::1]:8443",
            "http://localhost",
        ] {
            assert!(is_loopback_origin(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in [
            "http://example.com",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil",
            "http://localhost:80@evil.com",
            "null",
            "http://[::1]x",
        ] {
            assert!(!is_loopback_origin(&HeaderValue::from_static(bad)), "{bad}");
        }
    }

    #[test]
    fn wildcard_and_malformed_origins_are_refused() {
        assert!(GrpcWebCors::new().allow_origin("*").is_err());
        assert!(GrpcWebCors::new().allow_origin("https://a.b/").is_err());
        assert!(GrpcWebCors::new().allow_origin("https://a\nb").is_err());
        assert!(GrpcWebCors::new().allow_origin("https://a.b").is_ok());
        assert!(GrpcWebCors::new().expose_headers(["*"]).is_err());
        assert!(GrpcWebCors::new().expose_headers(["x-id"]).is_ok());
    }

    #[test]
    fn same_origin_is_recognised() {
        let parts = |host: &str| {
            http::Request::builder()
                .header(header::HOST, host)
                .body(())
                .unwrap()
                .into_parts()
                .0
        };
        let origin = HeaderValue::from_static("http://127.0.0.1:8080");
        assert!(is_same_origin(&origin, &parts("127.0.0.1:8080")));
        assert!(!is_same_origin(&origin, &parts("127.0.0.1:8081")));
        let origin = HeaderValue::from_static("https://app.example");
        assert!(is_same_origin(&origin, &parts("app.example:443")));
    }
}
