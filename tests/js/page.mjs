// Runs a cases module in a Chromium page (Playwright), as an app's page
// would run it: `runCases(file, pageUrl, ...args)` loads `pageUrl`, imports
// the module there and returns what its `run(...args)` returns (JSON-safe
// values).
import { readFile } from "node:fs/promises";

import { launch } from "../../e2e/browser.mjs";

export async function runCases(file, pageUrl, ...args) {
  const source = await readFile(file, "utf8");
  const browser = await launch();
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => console.error("page error:", e));
    await page.goto(pageUrl);
    return await page.evaluate(
      async ([source, args]) => {
        const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
        const { run } = await import(url);
        return run(...args);
      },
      [source, args],
    );
  } finally {
    await browser.close();
  }
}

// Prints one line per `{ name, error }` and the total; returns the failures.
export function report(label, results) {
  let failed = 0;
  for (const { name, error } of results) {
    console.log(`${error ? "FAIL" : "ok  "} ${name}${error ? `\n     ${error}` : ""}`);
    if (error) failed++;
  }
  console.log(`${label}: ${results.length - failed} passed, ${failed} failed`);
  return failed;
}
