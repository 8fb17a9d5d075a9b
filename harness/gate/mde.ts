// Minimum detectable effect (MDE): the smallest relative change a design
// would detect with the given power at the given two-sided level, from its
// own variance and sample sizes. For a t test on log values it is
// (t[1 − α/2, df] + t[power, df]) · se in log space (the normal-theory
// approximation every power table uses; MEASUREMENT.md's table follows
// from it), reported as exp(·) − 1, the size of an increase (a decrease of
// the same log size is slightly smaller, so this errs on the blind side).
// Pure functions: the runner calls them to decide whether to add rounds.

import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/** The power every MDE in a report is given at. */
export const DEFAULT_POWER = 0.8;

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Sample variance (n − 1); 0 for fewer than two values. */
export function variance(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
}

/**
 * The share of pairs the paired test trims from each end (Yuen's trimmed
 * mean). A slice can be disturbed whole (a kernel writeback under an fsync, a
 * wake on a cold core): one pair of twelve at -68% while the other eleven
 * sat within ±4% widened commutative-inserts file c1's MDE from ~3% to 29%.
 * Trimming one pair in ten from each end keeps such a pair from deciding or
 * blinding a comparison; it costs clean comparisons about a tenth of their
 * power (fewer degrees of freedom), which more pairs buy back. Tails, where
 * such slices matter, are reported in their own family.
 */
export const PAIR_TRIM = 0.1;

export interface TrimmedMean {
  /** Values trimmed from each end. */
  trimmed: number;
  mean: number;
  /** Its standard error, from the winsorized variance. */
  se: number;
  df: number;
}

/**
 * Yuen's trimmed mean of one sample and its standard error (Wilcox,
 * Introduction to Robust Estimation and Hypothesis Testing, 4.3): with
 * g = floor(trim·n) values cut from each end and h = n − 2g kept,
 * se = sqrt((n − 1)·s_w² / (h(h − 1))), s_w² the variance of the sample with
 * each cut value set to the nearest kept one; df = h − 1. With g = 0 it is
 * the mean and Student's standard error.
 */
export function trimmedMean(xs: readonly number[], trim: number): TrimmedMean {
  const n = xs.length;
  const s = [...xs].sort((a, b) => a - b);
  const g = Math.floor(trim * n);
  const h = n - 2 * g;
  const kept = s.slice(g, n - g);
  const winsorized = s.map((x, i) => (i < g ? s[g]! : i >= n - g ? s[n - g - 1]! : x));
  return { trimmed: g, mean: mean(kept), se: h < 2 ? Infinity : Math.sqrt(((n - 1) * variance(winsorized)) / (h * (h - 1))), df: h - 1 };
}

/** The MDE in log space of a t test with standard error `se` and `df` degrees of freedom; Infinity when df < 1. */
export function mdeLog(se: number, df: number, alpha: number, power = DEFAULT_POWER): number {
  if (!(df >= 1) || !Number.isFinite(se)) return Infinity;
  return (tQuantile(1 - alpha / 2, df) + tQuantile(power, df)) * se;
}

/** A log-space MDE as a relative change. */
export const relativeMde = (log: number): number => Math.expm1(log);

/**
 * The MDE of the test that decides (comparison.ts): a change counts only
 * beyond ±minEffect, so the smallest change seen with `power` is minEffect
 * and the t test's MDE above it, in log space.
 */
export const decisionMde = (se: number, df: number, alpha: number, power: number, minEffect: number): number =>
  relativeMde(Math.log1p(minEffect) + mdeLog(se, df, alpha, power));

/** Paired design: the per-pair log ratios ln(candidate / baseline), judged by their trimmed mean (PAIR_TRIM), changes counted beyond ±minEffect. */
export function pairedMde(logRatios: readonly number[], alpha: number, power = DEFAULT_POWER, trim = PAIR_TRIM, minEffect = 0): number {
  if (logRatios.length < 2) return Infinity;
  const t = trimmedMean(logRatios, trim);
  return decisionMde(t.se, t.df, alpha, power, minEffect);
}

/** Welch–Satterthwaite degrees of freedom of two independent samples' variances and sizes. */
export function welchDf(v1: number, n1: number, v2: number, n2: number): number {
  const a = v1 / n1;
  const b = v2 / n2;
  if (a + b === 0) return n1 + n2 - 2;
  return (a + b) ** 2 / (a ** 2 / (n1 - 1) + b ** 2 / (n2 - 1));
}

/** Unpaired design (Welch): the log values of each side. */
export function unpairedMde(logA: readonly number[], logB: readonly number[], alpha: number, power = DEFAULT_POWER): number {
  if (logA.length < 2 || logB.length < 2) return Infinity;
  const va = variance(logA);
  const vb = variance(logB);
  return relativeMde(mdeLog(Math.sqrt(va / logA.length + vb / logB.length), welchDf(va, logA.length, vb, logB.length), alpha, power));
}

/**
 * One new value against `history` (a prediction interval): tonight's night
 * against the spread of past nights, whose sd covers both the night-to-night
 * drift and each night's own sampling noise.
 */
export function predictionMde(history: readonly number[], alpha: number, power = DEFAULT_POWER): number {
  const h = history.length;
  if (h < 2) return Infinity;
  return relativeMde(mdeLog(Math.sqrt(variance(history) * (1 + 1 / h)), h - 1, alpha, power));
}

/**
 * The fewest pairs whose paired MDE is at most `target`, for a per-pair log
 * ratio sd `sdLog`; null if even `maxPairs` pairs are not enough.
 * The MDE falls monotonically with n (se and both t quantiles shrink), so a
 * doubling search then a bisection finds it.
 */
export function pairsForMde(sdLog: number, target: number, alpha: number, power = DEFAULT_POWER, maxPairs = 100_000): number | null {
  const goal = Math.log1p(target);
  const ok = (n: number): boolean => mdeLog(sdLog / Math.sqrt(n), n - 1, alpha, power) <= goal;
  if (!ok(maxPairs)) return null;
  let hi = 2;
  while (!ok(hi)) hi = Math.min(hi * 2, maxPairs);
  let lo = hi === 2 ? 1 : hi / 2;
  // Invariant: ok(hi), and lo is below the answer (lo = 1 stands for "no pair").
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The smallest two-sided p-value an exact Mann-Whitney test of n1 against n2 values can give: 2 / C(n1 + n2, n1). */
export function mannWhitneyMinP(n1: number, n2: number): number {
  if (n1 < 1 || n2 < 1) return 1;
  let c = 1;
  for (let i = 1; i <= n1; i++) c = (c * (n2 + i)) / i;
  return Math.min(1, 2 / c);
}

/** The smallest two-sided p-value an exact Wilcoxon signed-rank test of n non-zero pairs can give: 2 / 2^n. */
export const signedRankMinP = (n: number): number => Math.min(1, 2 / 2 ** n);
