// Firefox (geckodriver) or WebKit (WebKitWebDriver, MiniBrowser) behind the
// few methods of Playwright's Browser and Page that the live-update tests
// use (`newPage`, `goto`, `evaluate`, `close`), so one test file runs in
// every engine. Playwright's Firefox and WebKit need its own patched
// builds; Debian's browsers speak W3C WebDriver. One window: a "page" is
// the window until the next one (closing it loads about:blank, which ends
// its calls as closing a tab would).

const CAPABILITIES = {
  firefox: {
    "moz:firefoxOptions": {
      binary: process.env.FIREFOX ?? "/usr/bin/firefox-esr",
      args: ["-headless"],
      // package.json as a plain page of the origin, not the JSON viewer's.
      prefs: { "devtools.jsonview.enabled": false },
    },
  },
  webkit: {
    "webkitgtk:browserOptions": {
      binary: process.env.MINIBROWSER ?? "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
      args: ["--automation"],
    },
  },
};

/** `browser`: "firefox" or "webkit"; `driver`: its WebDriver server's URL. */
export async function launchWebDriver(browser, driver) {
  const command = async (method, path, body) => {
    const response = await fetch(`${driver}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const { value } = await response.json();
    if (!response.ok) throw new Error(`WebDriver ${method} ${path}: ${value?.error}: ${value?.message}`);
    return value;
  };
  if (!CAPABILITIES[browser]) throw new Error(`no WebDriver capabilities for ${browser}`);
  const { sessionId } = await command("POST", "/session", { capabilities: { alwaysMatch: CAPABILITIES[browser] } });
  const session = `/session/${sessionId}`;
  await command("POST", `${session}/timeouts`, { script: 120_000 });

  const page = {
    async goto(url) {
      await command("POST", `${session}/url`, { url });
      // What Playwright's pageerror would report: uncaught errors and rejections.
      await page.evaluate(() => {
        window.__errors = [];
        addEventListener("error", (e) => window.__errors.push(`pageerror: ${e.message}`));
        addEventListener("unhandledrejection", (e) => window.__errors.push(`pageerror: ${e.reason}`));
      });
    },
    /** Runs `fn(arg)` in the page (it may be async); its JSON-safe result. */
    async evaluate(fn, arg) {
      const result = await command("POST", `${session}/execute/async`, {
        script: `const [arg, done] = [arguments[0], arguments[arguments.length - 1]];
          Promise.resolve().then(() => (${fn})(arg)).then(
            (value) => done({ value: value === undefined ? null : value }),
            (e) => done({ error: String((e && e.stack) || e) }));`,
        args: [arg ?? null],
      });
      if (result.error) throw new Error(`in ${browser}: ${result.error}`);
      return result.value;
    },
    async errors() {
      return (await page.evaluate(() => window.__errors ?? [])) ?? [];
    },
    async close() {
      await command("POST", `${session}/url`, { url: "about:blank" });
    },
    // Playwright-only conveniences the tests call; nothing to do here.
    async route() {},
    on() {},
  };
  return {
    name: browser,
    async newPage() {
      return page;
    },
    async close() {
      await command("DELETE", session).catch(() => {});
    },
  };
}
