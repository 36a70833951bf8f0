// The seeded random numbers of the codec's differential tests
// (tests/js/text-forms.differential.mjs,
// tests/consumer/google-codec.differential.mjs): mulberry32, small and the
// same sequence for a seed on every run and machine, so a failure is
// re-run by its seed.

/** The random helpers of one seeded sequence. */
export function seeded(seed) {
  let state = seed >>> 0;
  function random() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1)); // inclusive, |range| < 2^53
  const pick = (items) => items[Math.floor(random() * items.length)];
  const bigRandom = (bits) => {
    let v = 0n;
    for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(int(0, 0xffff));
    return BigInt.asUintN(bits, v);
  };
  return { random, int, pick, bigRandom };
}
