// What the night-to-night noise test can be expected to find, given the
// run-to-run spread bench:gate measured: nights drawn from a log-normal of
// that spread, tonight shifted by the change, held to the same test
// (nightNoise) with each history length the bench judges. It tells a miss
// the noise predicts from one the test should not have made, and how small
// the spread must be for a target count.

import { Xorshift32 } from '../../shared/random.ts';
import { nightNoise } from '../../nightly/noise.ts';

/** A standard normal draw (Box-Muller). */
function normal(rng: Xorshift32): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * The expected number of nights, one per history length in `histories`, on
 * which a slowdown of `change` (relative) stands out above the noise of runs
 * spread `sdLog` (sd of their logs), at two-sided level `alpha`.
 */
export function expectedNightHits(sdLog: number, change: number, histories: readonly number[], alpha: number, power: number, trials = 4000, seed = 14): number {
  const rng = new Xorshift32(seed);
  const shift = Math.log1p(change);
  let hits = 0;
  for (const h of histories) {
    for (let t = 0; t < trials; t++) {
      const past = Array.from({ length: h }, () => Math.exp(sdLog * normal(rng)));
      const tonight = Math.exp(shift + sdLog * normal(rng));
      const n = nightNoise(past, tonight, alpha, power);
      if (n !== null && n.outside && tonight > n.level) hits++;
    }
  }
  return hits / trials;
}

/** The largest spread (sd of log, to 0.001) at which `target` nights are expected to be found. */
export function spreadForHits(target: number, change: number, histories: readonly number[], alpha: number, power: number): number {
  let lo = 0.001;
  let hi = 0.2;
  if (expectedNightHits(lo, change, histories, alpha, power, 1000) < target) return 0;
  while (hi - lo > 0.001) {
    const mid = (lo + hi) / 2;
    if (expectedNightHits(mid, change, histories, alpha, power, 1000) >= target) lo = mid;
    else hi = mid;
  }
  return lo;
}
