// Runs tests/js/api.cases.mjs through a W3C WebDriver (plain fetch), the same
// way api.test.mjs runs them in Chromium: on the demo server's origin,
// importing the built package from /pkg/ as a page would.
//   webkit:  WebKitGTK's MiniBrowser under WebKitWebDriver (the third engine)
//   firefox: Firefox ESR under geckodriver, over https with the server's
//            self-signed certificate accepted (acceptInsecureCerts): HTTP/2
// tests/js/peer.mjs runs beside it, a second server on another origin.
// Usage: node tests/js/api.webdriver.mjs webkit|firefox BASE_URL DRIVER_URL
import { readFile } from "node:fs/promises";

import { startPeer } from "./peer.mjs";

const [browser, base, driver] = process.argv.slice(2);
const CAPABILITIES = {
  webkit: {
    "webkitgtk:browserOptions": {
      binary: process.env.MINIBROWSER ?? "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
      args: ["--automation"],
    },
  },
  firefox: {
    acceptInsecureCerts: true,
    "moz:firefoxOptions": {
      binary: process.env.FIREFOX ?? "/usr/bin/firefox-esr",
      args: ["-headless"],
      // package.json as a plain page of the origin, not the JSON viewer's.
      prefs: { "devtools.jsonview.enabled": false },
    },
  },
};
if (!CAPABILITIES[browser] || !base || !driver) {
  throw new Error("usage: node tests/js/api.webdriver.mjs webkit|firefox BASE_URL DRIVER_URL");
}
const cases = await readFile(new URL("./api.cases.mjs", import.meta.url), "utf8");

/** One WebDriver command; its `value`, or an Error naming the command. */
async function command(method, path, body) {
  const response = await fetch(`${driver}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const { value } = await response.json();
  if (!response.ok) throw new Error(`WebDriver ${method} ${path}: ${value?.error}: ${value?.message}`);
  return value;
}

const { sessionId, capabilities } = await command("POST", "/session", {
  capabilities: { alwaysMatch: CAPABILITIES[browser] },
});
const session = `/session/${sessionId}`;
const peer = await startPeer();
const engine = `${capabilities.browserName} ${capabilities.browserVersion}`;
let failed = 0;
try {
  await command("POST", `${session}/timeouts`, { script: 120_000 });
  // Any page of the origin will do; this one always exists once pkg/ is built.
  await command("POST", `${session}/url`, { url: `${base}/pkg/package.json` });
  const results = await command("POST", `${session}/execute/async`, {
    script: `const [source, base, peer, done] = arguments;
      const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      import(url).then((m) => m.run(base, peer)).then(done, (e) => done([{ name: "load api.cases.mjs", error: String(e?.stack ?? e) }]));`,
    args: [cases, base, peer.url],
  });
  if (results.length === 0) throw new Error("api.cases.mjs ran no case");
  if (base.startsWith("https:")) {
    // Over TLS the calls must have gone over HTTP/2, or this proves nothing about it.
    // An aborted fetch may have no protocol to show (""), in Firefox even one
    // whose response had begun (1 SayHello of a run at dbf05b3); a call over
    // HTTP/1.1 would show "http/1.1", so "" proves nothing either way.
    const entries = await command("POST", `${session}/execute/sync`, {
      script: `const [base] = arguments;
        return performance.getEntriesByType("resource")
          .filter((e) => e.name.startsWith(base + "/demo.v1."))
          .map((e) => ({ name: e.name, protocol: e.nextHopProtocol, answered: e.responseStart > 0 }));`,
      args: [base],
    });
    const protocols = [...new Set(entries.filter((e) => e.protocol !== "").map((e) => e.protocol))];
    const name = `the calls went over h2 (${protocols})`;
    const error = `protocols seen: ${JSON.stringify(entries.filter((e) => e.protocol !== "h2").slice(0, 5))}`;
    results.push(protocols.join() === "h2" ? { name } : { name, error });
  }
  for (const { name, error } of results) {
    console.log(`${error ? "FAIL" : "ok  "} ${name}${error ? `\n     ${error}` : ""}`);
    if (error) failed++;
  }
  console.log(`JS API in ${engine} at ${base}: ${results.length - failed} passed, ${failed} failed`);
} finally {
  await command("DELETE", session).catch(() => {});
  await peer.close();
}
process.exit(failed ? 1 : 0);
