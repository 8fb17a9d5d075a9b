// The tests that decide a comparison, on log values (a change is a ratio,
// and per-round figures are skewed): within one run, the rounds of two
// mode sets ran back to back, so round i of each saw the same machine and
// a paired t on ln(candidate/baseline) cancels what drifts between rounds;
// it is Yuen's trimmed-mean t (PAIR_TRIM of the pairs cut from each end),
// so one disturbed slice neither decides nor blinds it. Across runs there is
// no pairing and Welch's t (@stdlib) compares the log values of each side.
// The change and interval are the t interval of the (trimmed) mean log
// difference, back-transformed.

import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import ttest2 from '@stdlib/stats-ttest2';
import { PAIR_TRIM, trimmedMean, variance, welchDf } from './mde.ts';

export interface TTest {
  test: 'paired_trimmed_t_log_ratio' | 'welch_t_log';
  /** Pairs (paired) or values per side. */
  n_baseline: number;
  n_candidate: number;
  /** Pairs trimmed from each end (paired; 0 for Welch). */
  trimmed: number;
  t: number;
  df: number;
  /** Two-sided. */
  p_value: number;
  /** Standard error of the mean log difference: with df, what the MDE is computed from. */
  se_log: number;
  /** exp(mean log difference) − 1: the typical relative change. */
  relative_change: number;
  ci: { lower: number; upper: number; confidence: number };
}

const logs = (xs: readonly number[]): number[] => xs.filter((x) => x > 0).map(Math.log);

function result(
  test: TTest['test'],
  nb: number,
  nc: number,
  diff: number,
  se: number,
  df: number,
  p: number,
  t: number,
  ci: readonly number[],
  confidence: number,
  trimmed = 0,
): TTest {
  return {
    test,
    n_baseline: nb,
    n_candidate: nc,
    trimmed,
    t,
    df,
    p_value: p,
    se_log: se,
    relative_change: Math.expm1(diff),
    ci: { lower: Math.expm1(ci[0]!), upper: Math.expm1(ci[1]!), confidence },
  };
}

/** A difference with no spread at all: exactly significant unless it is zero (stdlib yields NaN there). */
const degenerate = (test: TTest['test'], nb: number, nc: number, diff: number, df: number, confidence: number, trimmed = 0): TTest =>
  result(test, nb, nc, diff, 0, df, diff === 0 ? 1 : 0, diff === 0 ? 0 : Math.sign(diff) * Infinity, [diff, diff], confidence, trimmed);

/**
 * Paired trimmed-mean t (Yuen) on ln(candidate/baseline), pair by pair
 * (non-positive values dropped), `trim` of the pairs cut from each end
 * (below 10 pairs none is: Student's paired t); null with fewer than 2 pairs.
 */
export function pairedLogRatio(baseline: readonly number[], candidate: readonly number[], confidence = 0.95, trim = PAIR_TRIM): TTest | null {
  if (baseline.length !== candidate.length) return null;
  return pairedT(
    baseline.flatMap((b, i) => (b > 0 && candidate[i]! > 0 ? [Math.log(candidate[i]! / b)] : [])),
    confidence,
    trim,
  );
}

/** The same test on the pairs' log ratios themselves (a round's ratio can come from its chunks); null with fewer than 2. */
export function pairedT(d: readonly number[], confidence = 0.95, trim = PAIR_TRIM): TTest | null {
  const n = d.length;
  if (n < 2) return null;
  const y = trimmedMean(d, trim);
  if (y.se === 0) return degenerate('paired_trimmed_t_log_ratio', n, n, y.mean, y.df, confidence, y.trimmed);
  const t = y.mean / y.se;
  const q = tQuantile(1 - (1 - confidence) / 2, y.df);
  const p = 2 * (1 - tCdf(Math.abs(t), y.df));
  return result('paired_trimmed_t_log_ratio', n, n, y.mean, y.se, y.df, p, t, [y.mean - q * y.se, y.mean + q * y.se], confidence, y.trimmed);
}

/** Welch's t on the log values of each side; null with fewer than 2 positive values on a side. */
export function welchLogRatio(baseline: readonly number[], candidate: readonly number[], confidence = 0.95): TTest | null {
  const a = logs(baseline);
  const b = logs(candidate);
  if (a.length < 2 || b.length < 2) return null;
  const va = variance(a);
  const vb = variance(b);
  const df = welchDf(va, a.length, vb, b.length);
  const diff = b.reduce((s, x) => s + x, 0) / b.length - a.reduce((s, x) => s + x, 0) / a.length;
  if (va + vb === 0) return degenerate('welch_t_log', a.length, b.length, diff, df, confidence);
  const r = ttest2(b, a, { alpha: 1 - confidence, variance: 'unequal' });
  return result('welch_t_log', a.length, b.length, diff, Math.sqrt(va / a.length + vb / b.length), r.df, r.pValue, r.statistic, r.ci, confidence);
}
