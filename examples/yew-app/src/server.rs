//! Where the demo server is: the page's `?server=` parameter, read once at
//! start (a route change replaces the query).
use std::sync::OnceLock;

const DEFAULT: &str = "http://127.0.0.1:8080";

static URL: OnceLock<String> = OnceLock::new();

pub fn remember_from_location() {
    let from_query = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok())
        .and_then(|params| params.get("server"));
    let _ = URL.set(from_query.unwrap_or_else(|| DEFAULT.to_owned()));
}

/// The server's origin, e.g. `http://127.0.0.1:8080`.
pub fn url() -> String {
    URL.get().map_or(DEFAULT, String::as_str).to_owned()
}
