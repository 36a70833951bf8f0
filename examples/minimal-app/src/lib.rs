//! One unary call (`Greeter.SayHello`) and one server stream
//! (`Updates.Watch`, read to its end) with a 5 s timeout, the app the size
//! comparison measures. On grpc-web-abort each call also takes the
//! caller's signal (tonic-web-wasm-client has no way to).
use std::time::Duration;

use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

mod proto {
    tonic::include_proto!("demo.v1");
}

use proto::{
    HelloRequest, WatchRequest, greeter_client::GreeterClient, updates_client::UpdatesClient,
};

/// Greets, then counts the updates of a three-update stream.
#[wasm_bindgen]
pub async fn run(server: String, signal: AbortSignal) -> Result<String, JsError> {
    let transport = transport::new(server);
    let mut greeter = GreeterClient::new(transport.clone());
    let hello = HelloRequest {
        name: "minimal".into(),
        delay_ms: 0,
    };
    let reply = greeter
        .say_hello(transport::request(hello, &signal))
        .await?;
    let mut updates = UpdatesClient::new(transport);
    let watch = WatchRequest {
        topic: "minimal".into(),
        interval_ms: 10,
        limit: 3,
        after_seq: 0,
    };
    let mut stream = updates
        .watch(transport::request(watch, &signal))
        .await?
        .into_inner();
    let mut count = 0;
    while stream.message().await?.is_some() {
        count += 1;
    }
    Ok(format!("{}; {count} updates", reply.into_inner().message))
}

const TIMEOUT: Duration = Duration::from_secs(5);

#[cfg(feature = "grpc-web-abort")]
mod transport {
    use grpc_web_abort::{Channel, RequestExt};
    use web_sys::AbortSignal;

    pub fn new(server: String) -> Channel {
        Channel::new(server)
    }

    pub fn request<T>(message: T, signal: &AbortSignal) -> tonic::Request<T> {
        tonic::Request::new(message)
            .with_signal(signal)
            .with_timeout(super::TIMEOUT)
    }
}

#[cfg(all(feature = "tonic-web-wasm-client", not(feature = "grpc-web-abort")))]
mod transport {
    use tonic_web_wasm_client::Client;
    use web_sys::AbortSignal;

    pub fn new(server: String) -> Client {
        Client::new(server)
    }

    /// tonic-web-wasm-client takes no signal; the timeout is only announced
    /// (`grpc-timeout`), not enforced in the browser.
    pub fn request<T>(message: T, _: &AbortSignal) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(super::TIMEOUT);
        request
    }
}
