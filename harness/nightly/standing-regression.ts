// A gate rollback on a performance regression alone is a standing condition,
// not news, when the baseline night's own comparison shows the same change:
// tonight's effect is not significantly larger than the baseline's. M6's
// snapshot primitive costs commutative-inserts file c4 about 5% of its
// median write latency on unchanged code (+4.7% [2.3, 7.1] over 24 paired
// rounds); with an MDE of 8-20% in 12 rounds one night in several calls it
// significant, and a verdict compared as a word ("rollback" against "hold")
// failed that night with nothing changed. Contracts, fallback triggers and
// state mismatches are never standing by size: they keep the verdict rule.

import tCdf from '@stdlib/stats-base-dists-t-cdf';
import { pct, type Comparison } from '../gate/comparison.ts';
import type { Verdict } from '../gate/gate.ts';

/**
 * One-sided p that tonight's regression `c` is larger than the baseline's
 * `b` on the same comparison: the difference of their mean log changes over
 * the combined standard error, Welch-Satterthwaite df. Null when either has
 * no test.
 */
export function largerThanBaseline(c: Comparison, b: Comparison): number | null {
  if (c.test === null || b.test === null) return null;
  const worse = c.better === 'lower' ? 1 : -1;
  const diff = worse * (Math.log1p(c.test.relative_change) - Math.log1p(b.test.relative_change));
  const [vc, vb] = [c.test.se_log ** 2, b.test.se_log ** 2];
  if (vc + vb === 0) return diff > 0 ? 0 : 1;
  const df = (vc + vb) ** 2 / (vc ** 2 / c.test.df + vb ** 2 / b.test.df);
  return 1 - tCdf(diff / Math.sqrt(vc + vb), df);
}

/**
 * Why a rollback the baseline's verdict did not have is still the baseline's
 * condition, or null when it is new: it rests on regressions alone, and each
 * regressed deciding comparison has a counterpart in the baseline run it is
 * not significantly larger than (one-sided, at `alpha`).
 */
export function standingRegression(v: Verdict, baseline: readonly Comparison[] | undefined, alpha: number): string | null {
  if (baseline === undefined || v.rollback_causes.length !== 1 || v.rollback_causes[0] !== 'regression') return null;
  const regressed = v.comparisons.filter((c) => c.deciding && c.outcome === 'regressed');
  const same: string[] = [];
  for (const c of regressed) {
    const b = baseline.find((x) => x.cell_group === c.cell_group && x.metric === c.metric);
    const p = b === undefined ? null : largerThanBaseline(c, b);
    if (b === undefined || p === null || p < alpha) return null;
    same.push(
      `${c.cell_group} ${c.metric} ${pct(c.relative_diff)} tonight, ${pct(b.relative_diff)}${b.ci === null ? '' : ` [${pct(b.ci.lower)}, ${pct(b.ci.upper)}]`} ` +
        `at the baseline (larger tonight: one-sided p=${p.toFixed(3)})`,
    );
  }
  return same.length === 0 ? null : same.join('; ');
}
