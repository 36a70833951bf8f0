// Nearest-rank quantiles: one definition for the bench's Node side and for
// its page (served there as /bench/quantile.mjs), so every figure the bench
// reports is cut the same way.

/** Sorted copy's value at quantile p (nearest rank); null for no values. */
export function quantile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** The median: the lower of the middle two for an even count. */
export const median = (values) => quantile(values, 0.5);
