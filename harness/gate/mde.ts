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

/** The MDE in log space of a t test with standard error `se` and `df` degrees of freedom; Infinity when df < 1. */
export function mdeLog(se: number, df: number, alpha: number, power = DEFAULT_POWER): number {
  if (!(df >= 1) || !Number.isFinite(se)) return Infinity;
  return (tQuantile(1 - alpha / 2, df) + tQuantile(power, df)) * se;
}

/** A log-space MDE as a relative change. */
export const relativeMde = (log: number): number => Math.expm1(log);

/** Paired design: the per-pair log ratios ln(candidate / baseline). */
export function pairedMde(logRatios: readonly number[], alpha: number, power = DEFAULT_POWER): number {
  const n = logRatios.length;
  if (n < 2) return Infinity;
  return relativeMde(mdeLog(Math.sqrt(variance(logRatios) / n), n - 1, alpha, power));
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
