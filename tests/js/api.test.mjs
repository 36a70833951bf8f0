// Runs tests/js/api.cases.mjs in Chromium on the demo server's origin, where
// it imports the built npm package from /pkg/ exactly as a page would.
// Usage: node tests/js/api.test.mjs http://127.0.0.1:27080
// A second server, tests/js/peer.mjs, runs beside it on another origin.
import { report, runCases } from "./page.mjs";
import { startPeer } from "./peer.mjs";

const base = process.argv[2] ?? "http://127.0.0.1:27080";
const peer = await startPeer();
let results;
try {
  // Any page of the origin will do; this one always exists once pkg/ is built.
  results = await runCases(new URL("./api.cases.mjs", import.meta.url), `${base}/pkg/package.json`, base, peer.url);
} finally {
  await peer.close();
}
process.exit(report("JS API", results) ? 1 : 0);
