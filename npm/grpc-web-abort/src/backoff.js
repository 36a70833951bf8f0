// Exponential backoff with full jitter (as gRFC A6 words it): the n-th retry
// waits random(0, min(initial * multiplier^(n-1), max)) milliseconds, so
// clients that failed together do not come back together.

/** The longest the `retry`-th wait (1 for the first) may be. */
export function backoffCap({ initialBackoffMs, maxBackoffMs, backoffMultiplier }, retry) {
  return Math.min(initialBackoffMs * backoffMultiplier ** (retry - 1), maxBackoffMs);
}

/** The `retry`-th wait (1 for the first): uniformly random below its cap. */
export function backoffDelay(config, retry) {
  return Math.random() * backoffCap(config, retry);
}
