// A fault-injecting HTTP/1.1 proxy in front of the demo server, for the
// live-update tests: it forwards everything (pages, the package, calls) and
// logs each gRPC-Web request (path, arrival time, grpc-timeout), and on
// command it goes silent on the open responses without closing them (a
// half-open connection), cuts them (a network error), ends them without a
// status, or answers the next calls itself with a trailers-only status. A browser's abort closes its
// connection here, which closes the upstream one, so the server sees the
// cancel as it would without the proxy.
import http from "node:http";

export async function startProxy({ target, port }) {
  const upstream = new URL(target);
  const open = new Set(); // responses being relayed: { res, upstreamRes, silent }
  const log = [];
  let failures = 0;
  let failCode = "14";

  const server = http.createServer((req, res) => {
    const grpc = req.headers["content-type"]?.startsWith("application/grpc-web");
    if (grpc) {
      log.push({ path: req.url, at: Date.now(), grpcTimeout: req.headers["grpc-timeout"] ?? null, failed: failures > 0 });
    }
    if (grpc && failures > 0) {
      failures--;
      req.resume();
      res.writeHead(200, {
        "content-type": "application/grpc-web+proto",
        "grpc-status": failCode,
        "grpc-message": "the test proxy refused this call",
      });
      res.end();
      return;
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode, upstreamRes.headers);
        const relay = { res, upstreamRes, silent: false };
        open.add(relay);
        res.on("close", () => open.delete(relay));
        upstreamRes.on("data", (chunk) => {
          if (!relay.silent) res.write(chunk);
        });
        upstreamRes.on("end", () => {
          open.delete(relay);
          if (!relay.silent) res.end();
        });
        // The server went away mid-response: the browser must see a broken
        // connection, not a clean end.
        upstreamRes.on("aborted", () => {
          open.delete(relay);
          res.destroy();
        });
        upstreamRes.on("error", () => res.destroy());
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
    // The browser closed its side (an aborted fetch): so does the proxy.
    res.on("close", () => {
      if (!res.writableFinished) forward.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });

  return {
    url: `http://127.0.0.1:${port}`,
    log,
    /** The gRPC-Web requests for `path` logged so far. */
    calls: (path) => log.filter((entry) => entry.path === path),
    /** The open responses stop getting bytes; their connections stay open. */
    silence() {
      for (const relay of open) relay.silent = true;
      return open.size;
    },
    /** The open responses' connections are destroyed. */
    cut() {
      const n = open.size;
      for (const relay of open) relay.res.destroy();
      open.clear();
      return n;
    },
    /** The open responses end cleanly where they are, without trailers (their upstream calls are dropped). */
    end() {
      const n = open.size;
      for (const relay of open) {
        relay.silent = true;
        relay.res.end();
        relay.upstreamRes.destroy();
      }
      open.clear();
      return n;
    },
    /** The next `n` gRPC-Web calls get trailers-only `code` (UNAVAILABLE) from the proxy. */
    failNext(n, code = 14) {
      failures = n;
      failCode = String(code);
    },
    close() {
      for (const relay of open) relay.res.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
