// A reproduction for issue 17 (not part of `cargo xtask bench`): one client
// that opens a relayed stream of small messages (Stats.Watch every 1 ms) at a
// demo-server frontend over HTTP/2 and then stops reading it. The frontend
// stops reading its upstream stream in turn, the backend keeps sending (the
// upstream stream window is hyper's 2 MB), and the frontend's h2 client
// counts every small DATA frame it holds unread against its budget for
// "excessive small DATA frames" (h2 ≥ 0.4.16: each frame under 256 bytes
// costs 256 − its length, about half the connection window in all). Some
// 12 s later the budget is spent and h2 closes the frontend's connection to
// the backend (GOAWAY ENHANCE_YOUR_CALM "too_many_data_frames"): every call
// on it, from every client, fails UNAVAILABLE, and new calls fail until the
// backend is connected again.
//
//   node bench/slow-reader.mjs https://127.0.0.1:47662 [seconds=20]
// then, while it waits, any call through that frontend; or watch the
// frontend's log with RUST_LOG=tonic_deadline=debug ("upstream connection
// ended ... http2 error").
import http2 from "node:http2";

const [origin, seconds = "20"] = process.argv.slice(2);
if (!origin) throw new Error("usage: node bench/slow-reader.mjs <frontend origin> [seconds]");
// The demo's self-signed certificate; this script talks to that server only.
const session = http2.connect(origin, { rejectUnauthorized: false, settings: { initialWindowSize: 65535 } });
session.on("error", (e) => console.error(`session: ${e.message}`));
// StatsRequest { interval_ms: 1 } in a gRPC frame.
const message = Buffer.from([0, 0, 0, 0, 2, 0x08, 0x01]);
const stream = session.request({
  ":method": "POST",
  ":path": "/demo.v1.Stats/Watch",
  "content-type": "application/grpc",
  te: "trailers",
});
stream.end(message);
let bytes = 0;
stream.once("data", (chunk) => {
  bytes += chunk.length;
  stream.pause(); // from here on, nothing is read: the flow-control window fills and stays full
  console.error(`reading nothing for ${seconds} s`);
});
stream.on("close", () => console.error(`the stream closed (code ${stream.rstCode}) after ${bytes} bytes`));
setTimeout(() => {
  stream.close();
  session.close();
}, Number(seconds) * 1000);
