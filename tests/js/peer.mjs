// A second gRPC-Web server for the JS API suite, on another origin, for what
// the demo server cannot show a page: it records the request headers each
// call arrived with (grpc-timeout as the server got it), answers a status
// with a message, a response header and trailers of its choosing, and
// refuses CORS. Written here (node:http, a few lines) rather than as another
// Rust binary so that every runner of api.cases.mjs (Chromium, Firefox over
// HTTP/2, WebKit) can start it beside the browser without a build step.
//   POST /<service>/<method>            OK, an empty message
//   POST /status/<service>/<method>     FAILED_PRECONDITION with STATUS_MESSAGE
//                                       (percent-encoded) and TRAILERS in the body
//   POST /status-only/<service>/<method> the same as trailers-only (in the headers)
// Each reply has the response header x-peer-header: h-1.
//   POST /refuse/...                    no CORS at all: the browser's fetch fails
//   GET  /log                           the calls so far: [{ path, headers }]
import { createServer } from "node:http";

export const STATUS_MESSAGE = "not yet: 50% done ✓";
export const TRAILERS = { "x-peer-trailer": "t-1", "x-peer-other": "t-2" };
const EXPOSED = "grpc-status, grpc-message, x-peer-header, x-peer-trailer, x-peer-other";

/** grpc-message's percent-encoding (the gRPC spec): '%' and what is not printable ASCII. */
function percentEncode(text) {
  return [...Buffer.from(text)]
    .map((b) => (b < 0x20 || b > 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(b)))
    .join("");
}

function frame(flags, payload) {
  const header = Buffer.alloc(5);
  header[0] = flags;
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

function trailers(fields) {
  const text = Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  return frame(0x80, Buffer.from(text));
}

/** Starts the peer on a free loopback port: { url, close() }. */
export async function startPeer() {
  const log = [];
  const server = createServer((req, res) => {
    const refused = req.url.startsWith("/refuse/");
    if (!refused && req.headers.origin) {
      res.setHeader("access-control-allow-origin", req.headers.origin);
      res.setHeader("access-control-expose-headers", EXPOSED);
      res.setHeader("vary", "origin");
    }
    if (req.method === "OPTIONS") {
      if (!refused) {
        res.setHeader("access-control-allow-methods", "POST");
        res.setHeader("access-control-allow-headers", req.headers["access-control-request-headers"] ?? "");
      }
      res.writeHead(204).end();
      return;
    }
    if (req.method === "GET" && req.url === "/log") {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(log));
      return;
    }
    const body = [];
    req.on("data", (chunk) => body.push(chunk));
    req.on("end", () => {
      log.push({ path: req.url, headers: req.headers });
      const grpcMessage = percentEncode(STATUS_MESSAGE);
      res.setHeader("content-type", "application/grpc-web+proto");
      res.setHeader("x-peer-header", "h-1");
      if (req.url.startsWith("/status-only/")) {
        res.writeHead(200, { "grpc-status": "9", "grpc-message": grpcMessage, ...TRAILERS }).end();
      } else if (req.url.startsWith("/status/")) {
        res.writeHead(200).end(trailers({ "grpc-status": 9, "grpc-message": grpcMessage, ...TRAILERS }));
      } else {
        res.writeHead(200).end(Buffer.concat([frame(0, Buffer.alloc(0)), trailers({ "grpc-status": 0 })]));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections(); // the browser's keep-alive ones too
      }),
  };
}
