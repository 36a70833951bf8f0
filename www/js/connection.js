// A stream's connection state (the runtime's `onStateChange`) as one line
// of text, e.g. "Reconnecting in 3 s (attempt 4): UNAVAILABLE" (the error's
// message on hover), counting the backoff wait down while it lasts.
import { setText } from "./dom.js";

export class ConnectionState {
  /** @param {HTMLElement} node  where the line goes  @param {string} live  the text while open */
  constructor(node, live) {
    this.node = node;
    this.live = live;
    this.timer = null;
  }

  /** The `onStateChange` callback to pass to a call. */
  get listener() {
    return (state) => this.show(state);
  }

  show(state) {
    clearInterval(this.timer);
    this.timer = null;
    this.node.title = "";
    this.node.dataset.state = state.state;
    switch (state.state) {
      case "connecting":
        setText(this.node, state.attempt > 1 ? `Reconnecting (attempt ${state.attempt})…` : "Connecting…");
        break;
      case "open":
        setText(this.node, this.live);
        break;
      case "reconnecting": {
        const until = Date.now() + state.delayMs;
        // The code on the line, the whole message on hover: a network
        // failure's message is long.
        const why = state.lastError?.codeName ?? state.lastError?.name ?? "";
        this.node.title = describe(state.lastError);
        const tick = () => {
          const seconds = Math.ceil((until - Date.now()) / 1000);
          setText(this.node, `Reconnecting in ${Math.max(seconds, 0)} s (attempt ${state.attempt}): ${why}`);
        };
        tick();
        if (state.delayMs > 1000) this.timer = setInterval(tick, 250);
        break;
      }
      case "paused":
        setText(
          this.node,
          state.reason === "offline"
            ? "Offline: reconnects as soon as the browser is back online"
            : "Paused while the page is hidden",
        );
        break;
      case "closed":
        // The caller says how it ended (it knows whether it cancelled).
        break;
    }
  }
}

export function describe(error) {
  return error ? `${error.codeName ?? error.name}: ${error.message}` : "";
}
