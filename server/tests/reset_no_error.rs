//! Envoy resets the upstream stream with NO_ERROR when its downstream goes
//! away; the server must read any RST_STREAM code as the client leaving:
//! both tiers stop the call and count it `Canceled`.
mod support;

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use demo_server::proto::WatchRequest;
use prost::Message;
use support::{
    check, eventually,
    metrics::{Counts, Scrape},
    two_tiers,
};

#[tokio::test]
async fn a_stream_reset_with_no_error_is_a_cancel() {
    let running = two_tiers().await;
    let addr = running.frontend.unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();

    let request = http::Request::post(format!("http://{addr}/demo.v1.Updates/Watch"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (response, mut send) = client.send_request(request, false).unwrap();
    let message = WatchRequest {
        topic: "t".into(),
        interval_ms: 20,
        limit: 0,
        after_seq: 0,
    }
    .encode_to_vec();
    let mut frame = BytesMut::new();
    frame.put_u8(0);
    frame.put_u32(message.len() as u32);
    frame.put_slice(&message);
    send.send_data(Bytes::from(frame), true).unwrap();

    // The stream runs at both tiers: its first update has come.
    let mut body = response.await.unwrap().into_body();
    body.data().await.expect("an update").unwrap();

    send.send_reset(h2::Reason::NO_ERROR);
    eventually(
        Duration::from_millis(300),
        "both tiers stop and count Canceled",
        || async {
            let s = Scrape::of(addr).await;
            let counts = ["frontend", "backend"].map(|tier| Counts::of(&s, tier, "Watch"));
            check(
                counts
                    .iter()
                    .all(|c| c.in_flight == 0.0 && c.canceled == 1.0 && c.started == 1.0),
                counts,
            )
        },
    )
    .await;
    drop(body);
}
