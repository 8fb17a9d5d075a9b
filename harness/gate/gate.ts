// The promotion gate: for each switchable class, the candidate mode against
// the card's baseline comparator, on the workloads the card names, with the
// numbers behind every reason. Zero-tolerance contracts are exact counts;
// performance is judged per round (rank test, bootstrap interval, effect
// size); requirements the run could not exercise are listed as not run.

import { SWITCHABLE_CLASSES, type SwitchableClass } from '../../engine/index.ts';
import { CARDS } from '../cards/cards.ts';
import { HAS_CONTROL_MODES, isEngineVariant } from '../engines/variants.ts';
import type { FallbackEvent } from '../cards/evaluator.ts';
import type { CellRecord, CellSummary, RunRecord } from '../output/write.ts';
import { bootstrapRelativeDiff, cliffsDelta, mannWhitney, median, relativeDiff, type Interval, type RankTest } from './stats.ts';
import { pairedLogRatio, type PairedTest } from './paired.ts';
import { busiestKind, metricsOf, valuesToCompare, type Series } from './series.ts';

export interface GateOptions {
  /** Significance level of the rank test. */
  alpha: number;
  /** Smallest relative change that counts (noise below it is not a regression). */
  min_effect: number;
  /** A bootstrap interval wider than this (relative) makes the comparison too noisy to judge. */
  max_ci_width: number;
}

export const DEFAULT_GATE: GateOptions = { alpha: 0.05, min_effect: 0.02, max_ci_width: 0.5 };

export type Outcome = 'improved' | 'regressed' | 'no_change' | 'insufficient_rounds' | 'noisy';

export interface Comparison {
  cell_group: string;
  metric: string;
  better: 'higher' | 'lower';
  baseline_rounds: number[];
  candidate_rounds: number[];
  baseline_median: number;
  candidate_median: number;
  relative_diff: number;
  ci: Interval;
  rank_test: RankTest;
  /** Rounds of one interleaved run, paired round by round: the test that decides (null: unpaired, the rank test decides). */
  paired_test: PairedTest | null;
  effect_size: { measure: 'cliffs_delta'; value: number };
  outcome: Outcome;
  /** The significance level this test was held to after the Holm correction of its family. */
  alpha_used: number;
}

export interface Verdict {
  metadata_class: SwitchableClass;
  verdict: 'promote' | 'hold' | 'rollback';
  reasons: string[];
  comparisons: Comparison[];
  zero_contracts: { counter: string; count: number; cells: string[] }[];
  triggers: { trigger: string; cell: string; round: number; action: string; detail: string }[];
  not_run: string[];
  card: { selected_primitive: string; baseline_comparator: string; promotion_criteria: readonly string[] };
}

export interface GateInput {
  run: RunRecord;
  /** summary.json counters per cell id. */
  counters: ReadonlyMap<string, Readonly<Record<string, number>>>;
  /** summary.json cells (histogram summaries), for the charts. */
  summaries?: readonly CellSummary[];
}

const groupOf = (c: CellRecord): string => `${c.variant}.${c.workload}.${c.backend}.c${c.concurrency}`;
const NEW: Record<SwitchableClass, string> = { M1: 'polling', M6: 'snapshot', M11: 'sharded' };

/** The per-round series the gate judges: throughput, and p50/p99 of the cell's busiest operation kind. */
function series(c: CellRecord): Map<string, Series> {
  const busiest = busiestKind(c);
  return new Map([...metricsOf(c)].filter(([m]) => m === 'throughput_ops_s' || (busiest !== undefined && m.startsWith(`${busiest}.latency_`))));
}

/**
 * Holm–Bonferroni over one family of comparisons (a class's verdict, or one
 * cell of a run comparison): several metrics judged at once must not turn
 * noise into a regression. Outcomes that no longer pass are demoted to
 * no_change; `alpha_used` records the level each test was held to.
 */
/** The p-value a comparison is decided by. */
export const pValueOf = (c: Comparison): number => c.paired_test?.p_value ?? c.rank_test.p_value;

export function holm(family: Comparison[], alpha: number): Comparison[] {
  const order = family.map((c, i) => ({ c, i })).sort((a, b) => pValueOf(a.c) - pValueOf(b.c));
  let stopped = false;
  order.forEach(({ c }, k) => {
    const level = alpha / (family.length - k);
    c.alpha_used = level;
    if (stopped || pValueOf(c) >= level) {
      stopped = true;
      if (c.outcome === 'improved' || c.outcome === 'regressed') c.outcome = 'no_change';
    }
  });
  return family;
}

/**
 * One metric, baseline against candidate. `paired`: the rounds are of one
 * interleaved run, index by index, and a paired t on their log ratios
 * decides (change and interval are its geometric mean and t interval);
 * otherwise the Mann-Whitney rank test, the change of medians and a
 * bootstrap interval decide. Both are reported.
 */
export function compare(group: string, metric: string, better: 'higher' | 'lower', base: number[], cand: number[], o: GateOptions, paired = false): Comparison {
  const rank = mannWhitney(cand, base);
  const pt = paired ? pairedLogRatio(base, cand) : null;
  const ci: Interval = pt === null ? bootstrapRelativeDiff(base, cand) : { lower: pt.ci.lower, upper: pt.ci.upper, confidence: pt.ci.confidence, iterations: 0 };
  const rel = pt === null ? relativeDiff(base, cand) : pt.relative_change;
  const p = pt?.p_value ?? rank.p_value;
  const worse = better === 'higher' ? rel < 0 : rel > 0;
  let outcome: Outcome = 'no_change';
  // A wide interval that clears zero is still a clear change; only an inconclusive wide one is noise.
  if (base.length < 4 || cand.length < 4) outcome = 'insufficient_rounds';
  else if (p < o.alpha && Math.abs(rel) >= o.min_effect && (ci.lower > 0 || ci.upper < 0)) outcome = worse ? 'regressed' : 'improved';
  else if (ci.upper - ci.lower > o.max_ci_width) outcome = 'noisy';
  return {
    cell_group: group, metric, better, baseline_rounds: base, candidate_rounds: cand,
    baseline_median: base.length > 0 ? median(base) : 0, candidate_median: cand.length > 0 ? median(cand) : 0,
    relative_diff: rel, ci, rank_test: rank, paired_test: pt, effect_size: { measure: 'cliffs_delta', value: cliffsDelta(cand, base) }, outcome, alpha_used: o.alpha,
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function describe(c: Comparison): string {
  const test = c.paired_test === null
    ? `${Math.round(c.ci.confidence * 100)}% bootstrap CI [${pct(c.ci.lower)}, ${pct(c.ci.upper)}], Mann-Whitney U=${c.rank_test.u} p=${c.rank_test.p_value.toFixed(4)} (${c.rank_test.method}, Holm level ${c.alpha_used.toFixed(4)})`
    : `paired by round: ${pct(c.paired_test.relative_change)} per round, ${Math.round(c.ci.confidence * 100)}% t interval [${pct(c.ci.lower)}, ${pct(c.ci.upper)}], t=${c.paired_test.t.toFixed(2)} df=${c.paired_test.df} p=${c.paired_test.p_value.toFixed(4)} (Holm level ${c.alpha_used.toFixed(4)}; Mann-Whitney p=${c.rank_test.p_value.toFixed(4)})`;
  return `${c.cell_group} ${c.metric}: median ${c.baseline_median.toFixed(0)} -> ${c.candidate_median.toFixed(0)} (${pct(c.relative_diff)}), ${test}, Cliff's delta ${c.effect_size.value.toFixed(2)}, ` +
    `${c.baseline_rounds.length} vs ${c.candidate_rounds.length} rounds`;
}

/** Cells of an engine without control modes (SQLite, external) have no primitive to promote: the gate leaves them out. */
const hasControlModes = (c: CellRecord): boolean => !isEngineVariant(c.variant) || HAS_CONTROL_MODES[c.variant];

export function gate(input: GateInput, o: GateOptions = DEFAULT_GATE): Verdict[] {
  const modal = { ...input, run: { ...input.run, cells: input.run.cells.filter(hasControlModes) } };
  return SWITCHABLE_CLASSES.map((cls) => verdictFor(cls, modal, o));
}

function verdictFor(cls: SwitchableClass, { run, counters }: GateInput, o: GateOptions): Verdict {
  const card = CARDS[cls];
  const involved = run.cells.filter((c) => c.control_modes[cls] !== 'legacy');
  const reasons: string[] = [];
  let rollback = false;

  const zero_contracts = card.zero_contracts.map((counter) => {
    const hits = involved.filter((c) => (counters.get(c.id)?.[counter] ?? 0) > 0);
    return { counter, count: hits.reduce((n, c) => n + (counters.get(c.id)?.[counter] ?? 0), 0), cells: hits.map((c) => c.id) };
  });
  for (const z of zero_contracts) {
    if (z.count > 0) {
      rollback = true;
      reasons.push(`${z.counter} = ${z.count} (contract: exactly 0) in ${z.cells.join(', ')}`);
    }
  }
  const events: FallbackEvent[] = run.cells.flatMap((c) => c.fallback_events ?? []).filter((e) => e.metadata_class === cls && e.action === 'force_legacy');
  if (events.length > 0) {
    rollback = true;
    reasons.push(`fallback trigger fired ${events.length} time(s): ${[...new Set(events.map((e) => e.trigger))].join(', ')}`);
  }
  const mismatched = involved.filter((c) => c.correctness.length > 0);
  if (mismatched.length > 0) {
    rollback = true;
    reasons.push(`final state differs from legacy in ${mismatched.map((c) => c.id).join(', ')}`);
  }

  const comparisons: Comparison[] = [];
  const candidates = run.cells.filter((c) => c.control_modes[cls] === NEW[cls] && card.workloads.includes(c.workload));
  for (const cand of candidates) {
    // The baseline comparator is the all-legacy cell, preferring one no fault was scoped to.
    const legacy = run.cells.filter((c) => groupOf(c) === groupOf(cand) && Object.values(c.control_modes).every((m) => m === 'legacy'));
    const base = legacy.find((c) => Object.keys(c.faults ?? {}).length === 0) ?? legacy[0];
    if (base === undefined) continue;
    if (!cand.usable_for_gate || !base.usable_for_gate) {
      reasons.push(`${groupOf(cand)}: not judged (cell unusable: failures, observability gaps or state mismatch)`);
      continue;
    }
    const bs = series(base);
    for (const [metric, cs] of series(cand)) {
      const b = bs.get(metric);
      // Cells of one run: their rounds were interleaved, so they pair up round by round.
      if (b !== undefined) comparisons.push(compare(groupOf(cand), metric, cs.better, ...valuesToCompare(b, cs, true), o, true));
    }
  }
  holm(comparisons, o.alpha);
  const regressed = comparisons.filter((c) => c.outcome === 'regressed');
  if (regressed.length > 0) {
    rollback = true;
    for (const c of regressed) reasons.push(`significant regression: ${describe(c)}`);
  }

  const not_run = card.requirements
    .filter((r) => r.cross_node === true || !run.cells.some((c) => c.workload === r.workload && (r.backend === undefined || c.backend === r.backend) && (r.concurrency === undefined || c.concurrency === r.concurrency) && c.control_modes[cls] === NEW[cls]))
    .map((r) => (r.cross_node === true ? `${r.line} (cross-node: cannot run on one machine)` : r.line));
  const shadowed = run.cells.some((c) => c.control_modes[cls] === 'shadow_compare' && card.workloads.includes(c.workload));
  const triggers = events.map((e) => ({ trigger: e.trigger, cell: e.cell, round: e.round, action: e.action, detail: e.observation.detail }));
  const cardInfo = { selected_primitive: card.selected_primitive, baseline_comparator: card.baseline_comparator, promotion_criteria: card.promotion_criteria };
  const result = (verdict: Verdict['verdict']): Verdict => ({ metadata_class: cls, verdict, reasons, comparisons, zero_contracts, triggers, not_run, card: cardInfo });

  if (rollback) return result('rollback');
  if (comparisons.length === 0) {
    reasons.push(`hold: not enough evidence — no ${NEW[cls]} cell with a legacy baseline on ${card.workloads.join(', ')}`);
    return result('hold');
  }
  if (!shadowed) reasons.push(`hold: not enough evidence — no shadow_compare run on ${card.workloads.join(', ')} (the card ships shadow_compare first)`);
  const improved = comparisons.filter((c) => c.outcome === 'improved');
  if (comparisons.every((c) => c.outcome === 'insufficient_rounds')) reasons.push('hold: not enough evidence — fewer than 4 rounds per mode; an exact rank test cannot reach significance');
  else if (comparisons.some((c) => c.outcome === 'noisy')) {
    const noisy = comparisons.filter((c) => c.outcome === 'noisy').sort((a, b) => (b.ci.upper - b.ci.lower) - (a.ci.upper - a.ci.lower));
    reasons.push(`hold: noise too high — ${noisy.length} of ${comparisons.length} comparisons have a 95% interval wider than ${pct(o.max_ci_width)} (every comparison is in the report); widest: ${describe(noisy[0]!)}`);
  }
  else if (improved.length === 0) reasons.push('hold: no significant gain over the baseline comparator');
  for (const c of improved) reasons.push(`significant improvement: ${describe(c)}`);
  if (shadowed && improved.length > 0 && reasons.every((r) => !r.startsWith('hold'))) return result('promote');
  return result('hold');
}
