// An AbortSignal that aborts at the page's next navigation. The Navigation
// API's `navigate` event sees every kind of navigation; where it is missing,
// history and hash changes stand in. `pagehide` always counts (the page is
// going away or into the back/forward cache).
export function navigationSignal() {
  const controller = new AbortController();
  const listening = [];
  const listen = (target, type) => {
    target.addEventListener(type, abort);
    listening.push([target, type]);
  };
  function abort(event) {
    for (const [target, type] of listening) target.removeEventListener(type, abort);
    controller.abort(new DOMException(`the page navigated (${event.type})`, "AbortError"));
  }
  if (typeof navigation === "object" && navigation && "addEventListener" in navigation) {
    listen(navigation, "navigate");
  } else {
    listen(window, "popstate");
    listen(window, "hashchange");
  }
  listen(window, "pagehide");
  return controller.signal;
}
