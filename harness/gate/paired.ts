// The paired comparison of interleaved rounds. Rounds of two mode sets run
// back to back (A B A B …), so round i of each saw the same machine: the
// ratio candidate/baseline per round cancels what drifts between rounds
// (warm-up, frequency, neighbours), which an unpaired rank test must carry
// as noise. The test is Student's t on the log ratios; its interval is the
// t interval of their mean, back-transformed to a relative change.

import { lnGamma } from './gamma.ts';

export interface PairedTest {
  test: 'paired_t_log_ratio';
  pairs: number;
  t: number;
  df: number;
  /** Two-sided. */
  p_value: number;
  /** exp(mean log ratio) − 1: the typical relative change per round. */
  relative_change: number;
  ci: { lower: number; upper: number; confidence: number };
}

/** Regularized incomplete beta I_x(a, b), by its continued fraction (modified Lentz). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let f = d;
  for (let m = 1; m <= 300; m++) {
    for (const num of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      f *= c * d;
    }
    if (Math.abs(c * d - 1) < 1e-14) break;
  }
  return (front * f) / a;
}

/** Two-sided tail probability of Student's t with `df` degrees of freedom. */
export function tTwoSided(t: number, df: number): number {
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The t quantile with two-sided tail `p` (bisection: monotone, and p-values only need ~1e-10). */
export function tQuantile(p: number, df: number): number {
  let lo = 0;
  let hi = 1e3;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (tTwoSided(mid, df) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Paired t on ln(candidate/baseline), round by round; null without at least 3 positive pairs. */
export function pairedLogRatio(baseline: readonly number[], candidate: readonly number[], confidence = 0.95): PairedTest | null {
  if (baseline.length !== candidate.length) return null;
  const d = baseline.flatMap((b, i) => (b > 0 && candidate[i]! > 0 ? [Math.log(candidate[i]! / b)] : []));
  const n = d.length;
  if (n < 3) return null;
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const se = sd / Math.sqrt(n);
  const df = n - 1;
  const t = se === 0 ? (mean === 0 ? 0 : Math.sign(mean) * Infinity) : mean / se;
  const p = se === 0 ? (mean === 0 ? 1 : 0) : tTwoSided(t, df);
  const half = tQuantile(1 - confidence, df) * se;
  return {
    test: 'paired_t_log_ratio', pairs: n, t, df, p_value: p, relative_change: Math.exp(mean) - 1,
    ci: { lower: Math.exp(mean - half) - 1, upper: Math.exp(mean + half) - 1, confidence },
  };
}
