// Wires the page: loads the wasm client, starts the counters (always
// visible) and the router (one route at a time, each owning its calls).
import { init } from "./api.js";
import { Counters } from "./counters.js";
import { startRouter } from "./router.js";
import { mountLive } from "./routes/live.js";
import { mountWork } from "./routes/work.js";

export async function start() {
  await init();
  const counters = new Counters(
    document.getElementById("counters"),
    document.getElementById("counters-state"),
  );
  counters.start();

  const outlet = document.getElementById("route");
  const links = document.querySelectorAll("nav a[data-route]");
  let shown = false;
  startRouter({
    routes: {
      live: mountLive,
      work: (where, signal) => mountWork(where, signal, counters),
    },
    fallback: "live",
    outlet,
    onChange(name) {
      for (const link of links) {
        if (link.dataset.route === name) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
      }
      document.title = `${outlet.querySelector("h1").textContent} · grpc-web-abort`;
      // After a route change, move focus to the new content, as a page load would.
      if (shown) outlet.focus({ preventScroll: true });
      shown = true;
    },
  });
}
