// Comparing two runs cell by cell: the same statistics as the gate, with run
// A as the baseline. Runs from different hardware signatures are not
// comparable, and saying so is the answer.

import type { RunRecord } from '../output/write.ts';
import { DEFAULT_GATE, compare, holm, type Comparison, type GateOptions } from './gate.ts';
import { metricsOf, valuesToCompare } from './series.ts';

export interface RunComparison {
  comparable: boolean;
  why_not: string | null;
  baseline_run: string;
  candidate_run: string;
  comparisons: Comparison[];
  only_in_baseline: string[];
  only_in_candidate: string[];
  regressions: number;
  improvements: number;
}

/**
 * One cell against another (baseline first): every metric both have, as one
 * Holm family. `sameRun`: both are cells of one interleaved run, so their
 * rounds are compared pair by pair, round number to round number.
 */
export function compareCells(label: string, a: RunRecord['cells'][number], b: RunRecord['cells'][number], o: GateOptions = DEFAULT_GATE, sameRun = false): Comparison[] {
  const mb = metricsOf(b);
  const family: Comparison[] = [];
  for (const [metric, sa] of metricsOf(a)) {
    const sb = mb.get(metric);
    if (sb !== undefined) family.push(compare(label, metric, sa.better, ...valuesToCompare(sa, sb, sameRun), o, sameRun));
  }
  return holm(family, o.alpha);
}

export function compareRuns(a: RunRecord, b: RunRecord, o: GateOptions = DEFAULT_GATE): RunComparison {
  const base: Omit<RunComparison, 'comparable' | 'why_not'> = {
    baseline_run: a.run_id, candidate_run: b.run_id, comparisons: [],
    only_in_baseline: a.cells.filter((c) => !b.cells.some((d) => d.id === c.id)).map((c) => c.id),
    only_in_candidate: b.cells.filter((c) => !a.cells.some((d) => d.id === c.id)).map((c) => c.id),
    regressions: 0, improvements: 0,
  };
  if (a.environment.hardware_signature !== b.environment.hardware_signature) {
    return { ...base, comparable: false, why_not: `hardware signatures differ (${a.environment.hardware_signature} vs ${b.environment.hardware_signature}): not comparable` };
  }
  for (const ca of a.cells) {
    const cb = b.cells.find((c) => c.id === ca.id);
    if (cb === undefined || !ca.usable_for_gate || !cb.usable_for_gate) continue;
    base.comparisons.push(...compareCells(ca.id, ca, cb, o));
  }
  if (base.comparisons.length === 0) return { ...base, comparable: false, why_not: 'no usable cell appears in both runs' };
  base.regressions = base.comparisons.filter((c) => c.outcome === 'regressed').length;
  base.improvements = base.comparisons.filter((c) => c.outcome === 'improved').length;
  return { ...base, comparable: true, why_not: null };
}
