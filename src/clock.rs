//! The clock deadlines are measured on: monotonic milliseconds
//! (`performance.now()` in the browser), so a wall-clock jump cannot move a
//! deadline, plus the wall clock for absolute (epoch) deadlines.

/// Milliseconds on a monotonic clock.
#[cfg(target_arch = "wasm32")]
pub fn monotonic_ms() -> f64 {
    use wasm_bindgen::prelude::*;
    #[wasm_bindgen]
    extern "C" {
        // `performance` exists in windows and workers alike.
        #[wasm_bindgen(js_namespace = performance, js_name = now)]
        fn performance_now() -> f64;
    }
    performance_now()
}

/// Milliseconds since the Unix epoch.
#[cfg(target_arch = "wasm32")]
pub fn epoch_ms() -> f64 {
    js_sys::Date::now()
}

#[cfg(not(target_arch = "wasm32"))]
pub fn monotonic_ms() -> f64 {
    use std::{sync::OnceLock, time::Instant};
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

#[cfg(not(target_arch = "wasm32"))]
pub fn epoch_ms() -> f64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}
