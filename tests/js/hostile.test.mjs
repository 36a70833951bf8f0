// Runs hostile.cases.mjs in Chromium against tests/hostile-server, which
// serves the package built by `cargo xtask package` under /hostile/.
// Usage: node tests/js/hostile.test.mjs HOSTILE_SERVER_URL
// (`cargo xtask test` builds the package and starts the server: see
// xtask/src/hostile_tests.rs.)
import { report, runCases } from "./page.mjs";

const base = process.argv[2] ?? "http://127.0.0.1:27097";
const results = await runCases(new URL("./hostile.cases.mjs", import.meta.url), `${base}/hostile/package.json`, base);
process.exit(report("a hostile server", results) ? 1 : 0);
