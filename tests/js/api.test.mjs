// Runs tests/js/api.cases.mjs in Chromium on the demo server's origin, where
// it imports the built npm package from /pkg/ exactly as a page would.
// Usage: node tests/js/api.test.mjs http://127.0.0.1:47080
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const require = createRequire(new URL("../../e2e/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const base = process.argv[2] ?? "http://127.0.0.1:47080";
const cases = await readFile(new URL("./api.cases.mjs", import.meta.url), "utf8");
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
let failed = 0;
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  // Any page of the origin will do; this one always exists once pkg/ is built.
  await page.goto(`${base}/pkg/package.json`);
  const results = await page.evaluate(async ([source, base]) => {
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    const { run } = await import(url);
    return run(base);
  }, [cases, base]);
  for (const { name, error } of results) {
    console.log(`${error ? "FAIL" : "ok  "} ${name}${error ? `\n     ${error}` : ""}`);
    if (error) failed++;
  }
  console.log(`JS API: ${results.length - failed} passed, ${failed} failed`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
