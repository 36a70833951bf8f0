// Hash routes (#/live, #/work). A route owns the calls it starts: it gets a
// signal that aborts when the route is left, when the page navigates (the
// package's navigationSignal(), which also covers pagehide), or when the page
// is hidden; aborting that signal cancels every call made with it.
import { navigationSignal } from "./api.js";

/**
 * @param {object} options
 * @param {Record<string, (outlet: HTMLElement, signal: AbortSignal) => void>} options.routes
 * @param {string} options.fallback  the route shown for an unknown hash
 * @param {HTMLElement} options.outlet  where the route renders
 * @param {(name: string) => void} options.onChange
 */
export function startRouter({ routes, fallback, outlet, onChange }) {
  let current = null; // { name, controller, signal }
  let pageHidden = false;

  function routeName() {
    const name = location.hash.replace(/^#\/?/, "");
    return Object.hasOwn(routes, name) ? name : null;
  }

  function leave(reason) {
    current?.controller.abort(new DOMException(reason, "AbortError"));
    current = null;
  }

  function show() {
    if (pageHidden) return;
    const name = routeName();
    if (!name) {
      location.replace(`#/${fallback}`); // fires hashchange, which shows it
      return;
    }
    // Already showing it with a live signal: nothing to do.
    if (current?.name === name && !current.signal.aborted) return;
    leave("left the route");
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, navigationSignal()]);
    current = { name, controller, signal };
    // A navigation that does not change the route (a click on the current
    // link) still aborts navigationSignal(): show the route again, afresh.
    signal.addEventListener("abort", () => setTimeout(show), { once: true });
    outlet.replaceChildren();
    routes[name](outlet, signal);
    onChange(name);
  }

  addEventListener("hashchange", show);
  addEventListener("pagehide", () => {
    pageHidden = true;
    leave("the page was hidden");
  });
  // Back from the back/forward cache: the route's calls were cancelled, so
  // start them again.
  addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    pageHidden = false;
    show();
  });
  show();
}
