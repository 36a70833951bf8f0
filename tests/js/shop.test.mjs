// Runs shop.cases.mjs in Chromium against tests/echo-server, which serves
// the package built by `cargo xtask package` under /shop/.
// Usage: node tests/js/shop.test.mjs ECHO_URL
// tests/js/peer.mjs runs beside it, to count the calls that arrive.
import { report, runCases } from "./page.mjs";
import { startPeer } from "./peer.mjs";

const base = process.argv[2] ?? "http://127.0.0.1:27090";
const peer = await startPeer();
let results;
try {
  results = await runCases(new URL("./shop.cases.mjs", import.meta.url), `${base}/shop/package.json`, base, peer.url);
} finally {
  await peer.close();
}
process.exit(report("a second package", results) ? 1 : 0);
