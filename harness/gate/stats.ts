// The statistics behind a verdict, over per-round values (a round is the
// unit of replication: its value is one sample). simple-statistics supplies
// the descriptive parts; the rank test, its exact small-sample p-value, the
// bootstrap and the effect size are written out here so every number in a
// report can be traced to its definition.

import { errorFunction, median, quantile } from 'simple-statistics';
import { Xorshift32 } from '../../engine/shared/random.ts';

export interface RankTest {
  test: 'mann_whitney_u';
  u: number;
  /** Two-sided p-value: exact (all splits enumerated) for small samples, normal approximation otherwise. */
  p_value: number;
  method: 'exact' | 'normal';
}

/** Mann–Whitney U of `a` against `b` (ties count one half). */
export function mannWhitney(a: readonly number[], b: readonly number[]): RankTest {
  const u = uStatistic(a, b);
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { test: 'mann_whitney_u', u, p_value: 1, method: 'exact' };
  if (n1 + n2 <= 16) return { test: 'mann_whitney_u', u, p_value: exactP(a, b, u), method: 'exact' };
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12);
  const z = (Math.abs(u - mu) - 0.5) / sigma;
  // Two-sided tail of the standard normal: erfc(z / √2) (the tabulated CDF is too coarse in the tail).
  return { test: 'mann_whitney_u', u, p_value: Math.min(1, Math.max(0, 1 - errorFunction(Math.max(0, z) / Math.SQRT2))), method: 'normal' };
}

function uStatistic(a: readonly number[], b: readonly number[]): number {
  let u = 0;
  for (const x of a) for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0;
  return u;
}

/** Exact two-sided p: the share of all splits of the pooled values whose U is at least as extreme. */
function exactP(a: readonly number[], b: readonly number[], u: number): number {
  const pooled = [...a, ...b];
  const n1 = a.length;
  const mu = (a.length * b.length) / 2;
  const observed = Math.abs(u - mu);
  let extreme = 0;
  let total = 0;
  const pick: number[] = [];
  const walk = (start: number): void => {
    if (pick.length === n1) {
      const left = pick.map((i) => pooled[i]!);
      const right = pooled.filter((_, i) => !pick.includes(i));
      total++;
      if (Math.abs(uStatistic(left, right) - mu) >= observed - 1e-9) extreme++;
      return;
    }
    for (let i = start; i < pooled.length; i++) {
      pick.push(i);
      walk(i + 1);
      pick.pop();
    }
  };
  walk(0);
  return extreme / total;
}

/** Cliff's delta: P(a > b) − P(a < b), in [−1, 1]. |d| ≥ 0.474 is conventionally large. */
export function cliffsDelta(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let d = 0;
  for (const x of a) for (const y of b) d += x > y ? 1 : x < y ? -1 : 0;
  return d / (a.length * b.length);
}

export interface Interval {
  lower: number;
  upper: number;
  confidence: number;
  iterations: number;
}

/**
 * Percentile bootstrap of the relative difference of medians,
 * (median(candidate) − median(baseline)) / median(baseline), resampling
 * rounds with replacement. Seeded: the same input gives the same interval.
 */
export function bootstrapRelativeDiff(baseline: readonly number[], candidate: readonly number[], confidence = 0.95, iterations = 2000, seed = 1): Interval {
  const rng = new Xorshift32(seed);
  const resample = (xs: readonly number[]): number[] => xs.map(() => xs[Math.floor(rng.next() * xs.length)]!);
  const diffs: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const mb = median(resample(baseline));
    if (mb !== 0) diffs.push((median(resample(candidate)) - mb) / Math.abs(mb));
  }
  if (diffs.length === 0) return { lower: 0, upper: 0, confidence, iterations };
  const alpha = (1 - confidence) / 2;
  return { lower: quantile(diffs, alpha), upper: quantile(diffs, 1 - alpha), confidence, iterations };
}

export const relativeDiff = (baseline: readonly number[], candidate: readonly number[]): number => {
  const mb = median([...baseline]);
  return mb === 0 ? 0 : (median([...candidate]) - mb) / Math.abs(mb);
};

export { median };
