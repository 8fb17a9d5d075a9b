// Time sources. Durations come from the monotonic performance clock; record
// bounds are expressed in ns since the Unix epoch so spans can use them as is.

const origin = performance.timeOrigin;

/** Monotonic milliseconds (fractional). */
export const nowMs = (): number => performance.now();

/** Epoch nanoseconds of a `nowMs()` reading. */
export const epochNs = (ms: number): number => Math.round((origin + ms) * 1e6);

/** Busy-waits for `ns` nanoseconds: the injected-delay fault must cost CPU on
 * the path it slows, the way a real regression would, not yield the thread. */
export function spinDelay(ns: number): void {
  if (ns <= 0) return;
  const until = performance.now() + ns / 1e6;
  while (performance.now() < until) {
    /* spin */
  }
}
