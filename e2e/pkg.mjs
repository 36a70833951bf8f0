// The one place the browser tests name the npm package's entry module, and
// load it into a page of the server's origin the way an app would.

/** The package's entry module, as the server serves it. */
export const PKG_ENTRY = "/pkg/index.js";

/**
 * Opens a page of `base`'s origin that starts no calls of its own (the demo
 * page would), imports the package into it as `window.pkg`, and calls its
 * `init()` where it has one.
 */
export async function loadPackage(page, base) {
  // A JSON page has no icon; the browser's guess would log a 404.
  await page.route("**/favicon.ico", (route) => route.fulfill({ status: 204 }));
  await page.goto(new URL("/pkg/package.json", base).href);
  await page.evaluate(async (entry) => {
    const pkg = await import(entry);
    if (typeof pkg.default === "function") await pkg.default();
    window.pkg = pkg;
  }, PKG_ENTRY);
}
