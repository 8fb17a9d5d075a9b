// The rank tests reported beside every t test, over per-round values: they
// do not decide (the t test on log values does, so its MDE is known), but
// they show whether a change holds without the t test's normality, and how
// small a p-value their design could reach at all. The Wilcoxon signed-rank
// test of paired rounds is @stdlib's; no maintained library offers an exact
// Mann–Whitney U, so that one is written out here, with @stdlib's normal cdf
// for large samples.

import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import wilcoxon from '@stdlib/stats-wilcoxon';
import { mannWhitneyMinP, signedRankMinP } from './mde.ts';

export interface RankTest {
  test: 'mann_whitney_u' | 'wilcoxon_signed_rank';
  /** U (candidate against baseline), or the signed-rank statistic W+. */
  statistic: number;
  /** Two-sided p-value: exact for small samples, normal approximation otherwise. */
  p_value: number;
  method: 'exact' | 'normal';
  /** The smallest p-value this design (sample sizes) can give: above the level it is held to, it can never be significant. */
  min_p_value: number;
}

/** Mann–Whitney U of `a` against `b` (ties count one half). */
export function mannWhitney(a: readonly number[], b: readonly number[]): RankTest {
  const u = uStatistic(a, b);
  const n1 = a.length;
  const n2 = b.length;
  const min_p_value = mannWhitneyMinP(n1, n2);
  if (n1 === 0 || n2 === 0) return { test: 'mann_whitney_u', statistic: u, p_value: 1, method: 'exact', min_p_value };
  if (n1 + n2 <= 16) return { test: 'mann_whitney_u', statistic: u, p_value: exactP(a, b, u), method: 'exact', min_p_value };
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12);
  const z = (Math.abs(u - mu) - 0.5) / sigma;
  return { test: 'mann_whitney_u', statistic: u, p_value: Math.min(1, 2 * normalCdf(-Math.max(0, z), 0, 1)), method: 'normal', min_p_value };
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

/** Wilcoxon signed-rank test of paired values (candidate − baseline, on logs); zero differences dropped. */
export function signedRank(baseline: readonly number[], candidate: readonly number[]): RankTest {
  return signedRankOf(baseline.flatMap((b, i) => (b > 0 && candidate[i]! > 0 ? [Math.log(candidate[i]! / b)] : [])));
}

/** The same test on the pairs' log ratios themselves; zero differences dropped. */
export function signedRankOf(logRatios: readonly number[]): RankTest {
  const d = logRatios.filter((x) => x !== 0);
  const n = d.length;
  // One pair: both signs are equally likely, so p is 1 (stdlib wants two).
  if (n < 2) return { test: 'wilcoxon_signed_rank', statistic: (d[0] ?? 0) > 0 ? 1 : 0, p_value: 1, method: 'exact', min_p_value: 1 };
  const r = wilcoxon(d, { exact: n < 50 });
  // The exact two-sided p doubles a tail that holds the observed statistic, so it can pass 1 at the centre.
  return {
    test: 'wilcoxon_signed_rank',
    statistic: r.statistic,
    p_value: Math.min(1, r.pValue),
    method: n < 50 ? 'exact' : 'normal',
    min_p_value: signedRankMinP(n),
  };
}

/** Cliff's delta: P(a > b) − P(a < b), in [−1, 1]. |d| ≥ 0.474 is conventionally large. */
export function cliffsDelta(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let d = 0;
  for (const x of a) for (const y of b) d += x > y ? 1 : x < y ? -1 : 0;
  return d / (a.length * b.length);
}
