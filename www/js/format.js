// How numbers and times read on the page.
const counts = new Intl.NumberFormat("en-US");
const clock = new Intl.DateTimeFormat("en-GB", {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  fractionalSecondDigits: 3,
});

/** 64-bit fields arrive as numbers when safe, otherwise as BigInt. */
export const formatCount = (value) => counts.format(value);

export const formatClock = (epochMs) => clock.format(new Date(epochMs));

/** A duration: sub-millisecond precision where it matters, seconds when long. */
export function formatMs(ms) {
  if (Number.isInteger(ms) && ms < 1000) return `${ms} ms`; // already whole: no false precision
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}
