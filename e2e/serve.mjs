// A static server for a wasm-pack build on a loopback origin of its own, as
// a separately deployed frontend would be (the demo server allows loopback
// origins by CORS): `/pkg/...` from the build, every other path `index`
// (a single-page app's routes).
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";

const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };

/** Serves `pkgDir` under /pkg/ and `index` (a file URL or path) elsewhere; resolves to its origin and a close(). */
export async function serveStatic(pkgDir, index) {
  const server = createServer(async (request, response) => {
    const path = new URL(request.url, "http://app").pathname;
    // normalize() resolves `..`; what is left must not climb out of pkgDir.
    const inPkg = path.startsWith("/pkg/") ? normalize(path.slice(5)) : null;
    const file = inPkg === null ? index : inPkg.startsWith("..") ? null : join(pkgDir, inPkg);
    try {
      if (file === null) throw new Error("outside the build");
      const body = await readFile(file);
      response.writeHead(200, { "content-type": TYPES[extname(String(file))] ?? "text/html" });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}
