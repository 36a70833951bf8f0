//! The demo's requests as the tests send them.
use demo_server::proto::{HelloRequest, WatchRequest};

pub const WATCH: &str = "/demo.v1.Updates/Watch";
pub const HELLO: &str = "/demo.v1.Greeter/SayHello";

/// `Updates.Watch` every 20 ms, without end.
pub fn endless_watch() -> WatchRequest {
    WatchRequest {
        topic: "t".into(),
        interval_ms: 20,
        limit: 0,
        after_seq: 0,
    }
}

/// `Greeter.SayHello` that the backend answers after `delay_ms`.
pub fn hello(delay_ms: u32) -> HelloRequest {
    HelloRequest {
        name: "test".into(),
        delay_ms,
    }
}
