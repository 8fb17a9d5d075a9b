// One metric, baseline against candidate, and how a family of such
// comparisons is judged together. A t test on log values measures the change
// (paired by round within a run, Welch across runs); a rank test and Cliff's
// delta are reported beside it. Within a run (paired), what decides is
// whether the change lies beyond ±min_effect (2%): the t test of
// |δ| ≤ min_effect, so `regressed` means worse by at least min_effect with
// confidence, and a true effect near min_effect (M6=snapshot's ~2% on
// mixed-read-write memory c1 reads) does not decide some runs and not others.
// Across runs (Welch), the t test's standard error covers each run's rounds,
// not what the machine does between runs; a significant change counts when
// its estimate reaches min_effect, and the nightly also asks it to stand
// outside the night-to-night noise (nightly/noise.ts). A margin test there
// found +10% in 8 of 15 pairs of runs, against 15 of 15 without it.
// Holm's procedure holds the family to its alpha; every comparison carries
// its minimum detectable effect (MDE) under its rule at α/m, the level a lone
// change in a family of m must clear, so a comparison that saw nothing says
// how large a change it could have missed. Without a change that counts and
// with an MDE above `max_mde` it is `inconclusive`, never `no_change`.

import padjust from '@stdlib/stats-padjust';
import { median } from 'simple-statistics';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import { decisionMde } from './mde.ts';
import type { GateOptions } from './options.ts';
import { cliffsDelta, mannWhitney, signedRank, signedRankOf, type RankTest } from './ranks.ts';
import { pairedLogRatio, pairedT, welchLogRatio, type TTest } from './ttests.ts';

export type Outcome = 'improved' | 'regressed' | 'no_change' | 'inconclusive';

/** Why a comparison could not say no_change: fewer than two rounds (pairs) a side, or an MDE above max_mde. */
export type InconclusiveReason = 'too_few_rounds' | 'mde_above_threshold';

export interface Comparison {
  cell_group: string;
  metric: string;
  better: 'higher' | 'lower';
  /** Median latency decides verdicts; throughput and tail percentiles are reported, never deciding. */
  deciding: boolean;
  baseline_rounds: number[];
  candidate_rounds: number[];
  baseline_median: number;
  candidate_median: number;
  /** The deciding test's change, exp(mean log difference) − 1; 0 without a test. */
  relative_diff: number;
  /** The deciding test's 95% interval of that change; null without a test. */
  ci: { lower: number; upper: number; confidence: number } | null;
  /** The deciding test (null: fewer than two rounds or pairs). */
  test: TTest | null;
  rank_test: RankTest;
  effect_size: { measure: 'cliffs_delta'; value: number };
  /** The family this comparison was judged in: its name, its number of tested comparisons, its family-wise alpha and the smallest change that counts. */
  family: { name: string; size: number; alpha: number; min_effect: number };
  /** p of the test that decides: within a run, the change lies beyond ±min_effect (two-sided); across runs, the t test's own; null without a test. */
  p_beyond_min_effect: number | null;
  /** Its Holm-adjusted value (a change that counts below the family's alpha); null without a test. */
  p_adjusted: number | null;
  /** The level Holm's procedure held this test to at its rank. */
  alpha_used: number;
  /** Minimum detectable effect at α/m and the options' power, as a relative change; null: no change of any size could be seen. */
  mde: number | null;
  outcome: Outcome;
  inconclusive_reason: InconclusiveReason | null;
  /**
   * `yardstick`: two runs' rounds put at one machine speed by the yardstick read beside them (the twin arm, run/twin.ts,
   * or the frozen unit, runtime/yardstick.ts);
   * `as_measured`: arms of one run (their chunks pair) or runs without matching readings.
   */
  speed: 'as_measured' | 'yardstick';
}

/**
 * The statistics of one metric, not yet judged (judgeFamily decides).
 * `paired`: the rounds are of one interleaved run, index by index; `pairs`,
 * when given, are the rounds' log ratios (from their chunks), else each
 * round's ln(candidate / baseline).
 */
export function measure(
  group: string,
  metric: string,
  better: 'higher' | 'lower',
  deciding: boolean,
  base: number[],
  cand: number[],
  paired: boolean,
  pairs?: readonly number[],
): Comparison {
  const test = !paired ? welchLogRatio(base, cand) : pairs !== undefined ? pairedT(pairs) : pairedLogRatio(base, cand);
  return {
    cell_group: group,
    metric,
    better,
    deciding,
    baseline_rounds: base,
    candidate_rounds: cand,
    baseline_median: base.length > 0 ? median(base) : 0,
    candidate_median: cand.length > 0 ? median(cand) : 0,
    relative_diff: test?.relative_change ?? 0,
    ci: test?.ci ?? null,
    test,
    rank_test: !paired ? mannWhitney(cand, base) : pairs !== undefined ? signedRankOf(pairs) : signedRank(base, cand),
    effect_size: { measure: 'cliffs_delta', value: cliffsDelta(cand, base) },
    family: { name: '', size: 0, alpha: 0, min_effect: 0 },
    p_beyond_min_effect: null,
    p_adjusted: null,
    alpha_used: 0,
    mde: null,
    outcome: 'inconclusive',
    inconclusive_reason: 'too_few_rounds',
    speed: 'as_measured',
  };
}

/**
 * The p-value of the test that decides: H0 |δ| ≤ min_effect on the log
 * scale, rejected when the change lies beyond it (two-sided: with
 * min_effect 0 it is the t test's own p).
 */
export function pBeyond(t: TTest, minEffect: number): number {
  const excess = Math.abs(Math.log1p(t.relative_change)) - Math.log1p(minEffect);
  if (t.se_log === 0) return excess > 0 ? 0 : 1;
  return Math.min(1, 2 * (1 - tCdf(excess / t.se_log, t.df)));
}

/**
 * Judges a family: Holm over its tested comparisons' p of the test that
 * decides (stdlib's padjust), then each outcome: below alpha and at least
 * min_effect (always so when the margin was tested), improved or regressed;
 * below alpha but smaller, no_change; otherwise no_change if its MDE is
 * within max_mde, else inconclusive.
 */
export function judgeFamily(name: string, family: Comparison[], o: GateOptions): Comparison[] {
  const tested = family.filter((c) => c.test !== null);
  /** The margin a comparison's test clears: min_effect for a paired one, none across runs (see the head of this file). */
  const margin = (t: TTest): number => (t.test === 'paired_trimmed_t_log_ratio' ? o.min_effect : 0);
  for (const c of tested) c.p_beyond_min_effect = pBeyond(c.test!, margin(c.test!));
  const m = tested.length;
  const adjusted =
    m > 0
      ? padjust(
          tested.map((c) => c.p_beyond_min_effect!),
          'holm',
        )
      : [];
  const rank = [...tested].sort((a, b) => a.p_beyond_min_effect! - b.p_beyond_min_effect!);
  for (const c of family) {
    c.family = { name, size: m, alpha: o.alpha, min_effect: o.min_effect };
    c.alpha_used = c.test === null ? o.alpha : o.alpha / (m - rank.indexOf(c));
    if (c.test === null) continue;
    const t = c.test;
    c.p_adjusted = adjusted[tested.indexOf(c)]!;
    const mde = decisionMde(t.se_log, t.df, o.alpha / m, o.power, margin(t));
    c.mde = Number.isFinite(mde) ? mde : null;
    const worse = c.better === 'higher' ? c.relative_diff < 0 : c.relative_diff > 0;
    c.inconclusive_reason = null;
    if (c.p_adjusted < o.alpha && Math.abs(c.relative_diff) >= o.min_effect) c.outcome = worse ? 'regressed' : 'improved';
    else if (c.p_adjusted < o.alpha) c.outcome = 'no_change';
    else if (c.mde !== null && c.mde <= o.max_mde) c.outcome = 'no_change';
    else {
      c.outcome = 'inconclusive';
      c.inconclusive_reason = 'mde_above_threshold';
    }
  }
  return family;
}

/** One metric judged alone (a family of one). */
export const compare = (
  group: string,
  metric: string,
  better: 'higher' | 'lower',
  base: number[],
  cand: number[],
  o: GateOptions,
  paired = false,
): Comparison => judgeFamily(metric, [measure(group, metric, better, true, base, cand, paired)], o)[0]!;

export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** The column head of a table's p-values: the t test's own p, then the Holm-adjusted p of the test that decides (within a run: the change beyond ±min_effect). */
export const P_COLUMN = 'p (deciding, Holm)';

/** The MDE as people read it: a percentage, or ∞ when no change of any size could be seen. */
export const mdeText = (mde: number | null): string => (mde === null ? '∞' : pct(mde));

/** One line with every number behind a comparison. */
export function describe(c: Comparison): string {
  const rounds = `${c.baseline_rounds.length} vs ${c.candidate_rounds.length} rounds`;
  if (c.test === null) return `${c.cell_group} ${c.metric}: ${rounds}, too few for a test (MDE ∞)`;
  const t = c.test;
  const how =
    t.test === 'paired_trimmed_t_log_ratio'
      ? `paired by round (${t.n_baseline} pairs${t.trimmed > 0 ? `, trimmed mean without the ${t.trimmed} lowest and highest` : ''})`
      : `Welch t on log values${c.speed === 'yardstick' ? " at the baseline's machine speed (yardstick)" : ''}`;
  const rank = c.rank_test;
  const blind = rank.min_p_value >= c.alpha_used ? `, which this design can never bring below ${c.alpha_used.toFixed(4)}` : '';
  return (
    `${c.cell_group} ${c.metric}: median ${c.baseline_median.toFixed(0)} -> ${c.candidate_median.toFixed(0)}, ${how}: ${pct(c.relative_diff)}, ` +
    `${Math.round(t.ci.confidence * 100)}% t interval [${pct(t.ci.lower)}, ${pct(t.ci.upper)}], t=${t.t.toFixed(2)} df=${t.df.toFixed(1)} p=${t.p_value.toFixed(4)} ` +
    `(${t.test === 'paired_trimmed_t_log_ratio' ? `beyond ±${pct(c.family.min_effect)}: p=${c.p_beyond_min_effect!.toFixed(4)}, ` : ''}Holm-adjusted ${c.p_adjusted!.toFixed(4)} over ${c.family.size}, family alpha ${c.family.alpha}), MDE ${mdeText(c.mde)}; ` +
    `${rank.test === 'wilcoxon_signed_rank' ? 'Wilcoxon signed-rank' : 'Mann-Whitney'} p=${rank.p_value.toFixed(4)} (smallest possible ${rank.min_p_value.toFixed(4)}${blind}), ` +
    `Cliff's delta ${c.effect_size.value.toFixed(2)}, ${rounds}`
  );
}
