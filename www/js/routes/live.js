// #/live: one Updates.Watch stream, owned by the route. Changing the topic or
// the interval replaces the stream; leaving the route aborts `routeSignal`,
// which cancels it in the browser and, through the server, at both tiers.
// The stream is resumable: when the server restarts or the network breaks,
// the runtime reconnects (backoff, or at once when the browser is back
// online) and asks for the updates after the last one shown, so the
// sequence goes on with no gap; the state line says what it is doing.
import { UpdatesClient } from "../api.js";
import { ConnectionState, describe } from "../connection.js";
import { el, fromTemplate, setText } from "../dom.js";
import { formatClock, formatCount, formatMs } from "../format.js";

/** Rows kept on screen; older ones are dropped. */
const MAX_ROWS = 12;

export function mountLive(outlet, routeSignal) {
  const { fragment, refs } = fromTemplate("live-template");
  outlet.append(fragment);
  const updates = new UpdatesClient(location.origin);
  let stream = null; // the current stream's own controller
  let received = 0;

  function subscribe() {
    stream?.abort(new DOMException("replaced by a new subscription", "AbortError"));
    stream = new AbortController();
    watch(AbortSignal.any([routeSignal, stream.signal]));
    refs.toggle.textContent = "Pause";
  }

  function pause() {
    stream?.abort(new DOMException("paused", "AbortError"));
    stream = null;
    refs.toggle.textContent = "Resume";
    setText(refs.state, "Paused: the stream is cancelled at both tiers.");
  }

  async function watch(signal) {
    const topic = refs.topic.value;
    const intervalMs = Number(refs.interval.value);
    received = 0;
    setText(refs.count, "");
    refs.feed.replaceChildren();
    refs.empty.hidden = false;
    setText(refs.state, `Connecting to “${topic}”…`);
    const connection = new ConnectionState(refs.state, `Streaming “${topic}”`);
    const options = {
      signal,
      // No update for three intervals (and 5 s at least): the connection is
      // dead even if nothing closed it.
      idleTimeoutMs: Math.max(5000, 3 * intervalMs),
      resume: { from: (last, request) => ({ ...request, afterSeq: last.seq }) },
      onStateChange: connection.listener,
    };
    try {
      for await (const update of updates.watch({ topic, intervalMs, limit: 0 }, options)) {
        show(update);
        // Not in the live region: announcing every update would drown the reader.
        setText(refs.count, `· ${formatCount(++received)} received`);
      }
      setText(refs.state, "The server ended the stream.");
    } catch (error) {
      if (signal.aborted) return; // we cancelled it (pause, new topic, route left): expected
      setText(refs.state, `The stream failed: ${describe(error)}`);
    }
    stream = null; // it ended on its own: offer to start it again
    refs.toggle.textContent = "Restart";
  }

  function show(update) {
    const sentAtMs = Number(update.sentAtMs);
    const latency = Math.max(0, Date.now() - sentAtMs);
    const row = el(
      "tr",
      "",
      el("td", "num muted", formatCount(update.seq)),
      el("td", "", update.text),
      el("td", "muted", formatClock(sentAtMs)),
      el("td", "num", formatMs(latency)),
    );
    refs.feed.prepend(row); // newest first
    refs.feed.rows[MAX_ROWS]?.remove();
    refs.empty.hidden = true;
  }

  refs.topic.addEventListener("change", subscribe);
  refs.interval.addEventListener("change", subscribe);
  refs.toggle.addEventListener("click", () => (stream ? pause() : subscribe()));
  refs.form.addEventListener("submit", (event) => event.preventDefault());
  subscribe();
}
