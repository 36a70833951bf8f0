// In-page helpers for the live-update tests (added to a page of the server's
// origin with `installWatch`): a resumable Updates.Watch whose every message,
// state and outcome is recorded with its time, for the test to poll.

/** Installs `window.watch(config)` into `page` (the package is `window.pkg`). */
export function installWatch(page) {
  return page.evaluate(() => {
    const describe = (error) =>
      error && {
        name: error.name,
        code: error.code,
        codeName: error.codeName,
        message: error.message,
        cause: error.cause?.message ?? (error.cause === undefined ? undefined : String(error.cause)),
        hasGrpcStatus: error.metadata?.has?.("grpc-status") ?? null,
      };
    window.runs = [];
    /**
     * config: { topic, intervalMs, resume (object, `from` added), timeoutMs,
     * deadlineInMs (an absolute deadline that far away), idleTimeoutMs, stopOn: "abort" | "return" | "navigate" (at the first
     * reconnecting state from attempt `stopAttempt`), options (used as they
     * are instead), defaults (the client's) }. Returns the run's index.
     */
    window.watch = (config) => {
      const run = { seqs: [], at: [], states: [], error: null, done: false, startedAt: Date.now(), stoppedAt: null };
      const controller = new AbortController();
      run.abort = (reason) => controller.abort(new DOMException(reason, "AbortError"));
      const signal = config.stopOn === "navigate" ? window.pkg.navigationSignal() : controller.signal;
      const stop = () => {
        run.stoppedAt = Date.now();
        if (config.stopOn === "abort") run.abort("stopped while waiting to reconnect");
        else if (config.stopOn === "return") stream.return();
        else if (config.stopOn === "navigate") location.hash = `#away-${Date.now()}`;
      };
      const options = config.options ?? {
        signal,
        timeoutMs: config.timeoutMs,
        deadline: config.deadlineInMs === undefined ? undefined : (run.deadline = Date.now() + config.deadlineInMs),
        idleTimeoutMs: config.idleTimeoutMs,
        resume: config.resume && { from: (last, request) => ({ ...request, afterSeq: last.seq }), ...config.resume },
        onStateChange(state) {
          run.states.push({ ...state, at: Date.now(), lastError: describe(state.lastError), error: describe(state.error) });
          if (config.stopOn && run.stoppedAt === null && state.state === "reconnecting" && state.attempt >= (config.stopAttempt ?? 2)) {
            stop();
          }
        },
      };
      const client = new window.pkg.UpdatesClient(location.origin, config.defaults);
      const stream = client.watch({ topic: config.topic, intervalMs: config.intervalMs, afterSeq: config.afterSeq }, options);
      (async () => {
        try {
          for await (const update of stream) {
            run.seqs.push(Number(update.seq));
            run.at.push(Date.now());
          }
        } catch (error) {
          run.error = describe(error);
        }
        run.done = true;
        run.doneAt = Date.now();
      })();
      window.runs.push(run);
      return window.runs.length - 1;
    };
    window.report = (i) => {
      const { abort, ...rest } = window.runs[i];
      return rest;
    };
  });
}
