// A gRPC-Web server, small enough to write by hand, whose calls fail on
// purpose: the unary retry tests' server. `x-plan` (e.g. "14,14,ok" or
// "14/pushback=300,ok") says what each attempt of one `x-key` gets: a
// trailers-only status (with a grpc-retry-pushback-ms when given) or an
// Answer. It logs every attempt (arrival time, grpc-previous-rpc-attempts)
// and serves the package built for flaky.proto under /flaky/.
import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";

const TYPES = { ".js": "text/javascript", ".json": "application/json", ".wasm": "application/wasm", ".ts": "text/plain" };

export async function startFlaky({ port, packageDir }) {
  const attempts = new Map(); // x-key -> [{ at, previous, path }]

  const server = http.createServer(async (req, res) => {
    if (req.url.startsWith("/flaky/")) return serveFile(res, packageDir, req.url.slice("/flaky/".length));
    if (!req.url.startsWith("/flaky.v1.Flaky/")) {
      res.writeHead(404).end();
      return;
    }
    req.resume();
    const key = req.headers["x-key"] ?? "";
    const list = attempts.get(key) ?? [];
    attempts.set(key, list);
    list.push({ at: Date.now(), path: req.url, previous: req.headers["grpc-previous-rpc-attempts"] ?? null });
    const plan = (req.headers["x-plan"] ?? "ok").split(",");
    const step = plan[Math.min(list.length, plan.length) - 1];
    const head = { "content-type": "application/grpc-web+proto" };
    if (step === "ok") {
      res.writeHead(200, head);
      res.end(Buffer.concat([frame(0, Buffer.from([0x08, list.length])), frame(0x80, Buffer.from("grpc-status:0\r\n"))]));
      return;
    }
    const [code, ...extras] = step.split("/");
    head["grpc-status"] = code;
    head["grpc-message"] = `planned failure ${list.length}`;
    for (const extra of extras) {
      const [name, value] = extra.split("=");
      if (name === "pushback") head["grpc-retry-pushback-ms"] = value;
    }
    res.writeHead(200, head);
    res.end();
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    /** The attempts that reached the server for `key`. */
    attempts: (key) => attempts.get(key) ?? [],
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

function frame(flags, payload) {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

async function serveFile(res, dir, name) {
  const file = path.join(dir, path.normalize(`/${name}`));
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
}
