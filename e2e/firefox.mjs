// Firefox under geckodriver, behind the few methods of Playwright's Browser
// and Page that the live-update tests use (`newPage`, `goto`, `evaluate`,
// `close`), so one test file runs in both engines. Playwright's Firefox
// needs its own patched build; Debian's Firefox ESR speaks W3C WebDriver.
// One window: a "page" is the window until the next one (closing it loads
// about:blank, which ends its calls as closing a tab would).

const FIREFOX = process.env.FIREFOX ?? "/usr/bin/firefox-esr";

export async function launchFirefox(driver) {
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
  const { sessionId } = await command("POST", "/session", {
    capabilities: {
      alwaysMatch: {
        "moz:firefoxOptions": { binary: FIREFOX, args: ["-headless"], prefs: { "devtools.jsonview.enabled": false } },
      },
    },
  });
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
      if (result.error) throw new Error(`in Firefox: ${result.error}`);
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
    name: "firefox",
    async newPage() {
      return page;
    },
    async close() {
      await command("DELETE", session).catch(() => {});
    },
  };
}
