// Comparing cells: two runs cell by cell (run A the baseline, unpaired), or
// two arms (mode sets) of one run, paired round by round. The deciding
// comparisons of the whole comparison form one Holm family, the tails
// another (reported, never deciding). Runs from different hardware
// signatures are not comparable, and saying so is the answer.

import type { CellFigures, RunFigures } from '../results/record.ts';
import { judgeFamily, measure, type Comparison } from './comparison.ts';
import { DEFAULT_GATE, type GateOptions } from './options.ts';
import { isDeciding, metricsAtSpeed, metricsOf, pairLogRatios, valuesToCompare, yardstickLevel, type Series } from './series.ts';

export interface RunComparison {
  comparable: boolean;
  why_not: string | null;
  baseline_run: string;
  candidate_run: string;
  comparisons: Comparison[];
  only_in_baseline: string[];
  only_in_candidate: string[];
  /** Deciding comparisons only: tails are in `comparisons`, never counted here. */
  regressions: number;
  improvements: number;
  inconclusive: number;
}

/** One metric of two cells, measured (not yet judged). `sameRun`: cells of one interleaved run, paired round by round (and chunk by chunk). */
export const measureSeries = (label: string, metric: string, a: Series, b: Series, sameRun: boolean): Comparison =>
  measure(label, metric, a.better, isDeciding(metric), ...valuesToCompare(a, b, sameRun), sameRun, sameRun ? pairLogRatios(a, b) : undefined);

/**
 * Both cells' figures at the baseline's machine speed (its median yardstick
 * reading), or null when either lacks readings: cells of two runs, whose
 * machine ran at its own speed each night.
 */
function atOneSpeed(a: CellFigures, b: CellFigures): [Map<string, Series>, Map<string, Series>] | null {
  const ref = yardstickLevel(a);
  if (ref === null) return null;
  const ma = metricsAtSpeed(a, ref);
  const mb = metricsAtSpeed(b, ref);
  return ma === null || mb === null ? null : [ma, mb];
}

/**
 * Every metric two cells both have, measured (not yet judged). Cells of two
 * runs are compared at one machine speed when `scaled` and both carry the
 * yardstick's readings (the same yardstick: see compareRuns), else as measured.
 */
function measureCells(label: string, a: CellFigures, b: CellFigures, sameRun: boolean, scaled: boolean): Comparison[] {
  const scaledPair = !sameRun && scaled ? atOneSpeed(a, b) : null;
  const [ma, mb] = scaledPair ?? [metricsOf(a), metricsOf(b)];
  const speed: Comparison['speed'] = scaledPair === null ? 'as_measured' : 'yardstick';
  return [...ma].flatMap(([metric, sa]) => {
    const sb = mb.get(metric);
    return sb === undefined ? [] : [{ ...measureSeries(label, metric, sa, sb, sameRun), speed }];
  });
}

/** Whether two runs' rounds can be put at one machine speed: both timed the same yardstick. */
export const sameYardstick = (a: RunFigures, b: RunFigures): boolean => a.config.yardstick !== undefined && a.config.yardstick === b.config.yardstick;

/** Judges measured comparisons as two families, the deciding metrics and the tails. */
export function judgeAll(name: string, comparisons: Comparison[], o: GateOptions): Comparison[] {
  judgeFamily(
    `${name}: deciding`,
    comparisons.filter((c) => c.deciding),
    o,
  );
  judgeFamily(
    `${name}: tails (reported, not deciding)`,
    comparisons.filter((c) => !c.deciding),
    o,
  );
  return comparisons;
}

/** One cell against another (baseline first), judged on its own. */
export const compareCells = (label: string, a: CellFigures, b: CellFigures, o: GateOptions = DEFAULT_GATE, sameRun = false, scaled = true): Comparison[] =>
  judgeAll(label, measureCells(label, a, b, sameRun, scaled), o);

function counted(base: Omit<RunComparison, 'regressions' | 'improvements' | 'inconclusive'>): RunComparison {
  const deciding = base.comparisons.filter((c) => c.deciding);
  const n = (o: Comparison['outcome']): number => deciding.filter((c) => c.outcome === o).length;
  return { ...base, regressions: n('regressed'), improvements: n('improved'), inconclusive: n('inconclusive') };
}

export function compareRuns(a: RunFigures, b: RunFigures, o: GateOptions = DEFAULT_GATE): RunComparison {
  const base = {
    baseline_run: a.run_id,
    candidate_run: b.run_id,
    comparisons: [] as Comparison[],
    only_in_baseline: a.cells.filter((c) => !b.cells.some((d) => d.id === c.id)).map((c) => c.id),
    only_in_candidate: b.cells.filter((c) => !a.cells.some((d) => d.id === c.id)).map((c) => c.id),
  };
  if (a.environment.hardware_signature !== b.environment.hardware_signature) {
    return counted({
      ...base,
      comparable: false,
      why_not: `hardware signatures differ (${a.environment.hardware_signature} vs ${b.environment.hardware_signature}): not comparable`,
    });
  }
  const scaled = sameYardstick(a, b);
  for (const ca of a.cells) {
    const cb = b.cells.find((c) => c.id === ca.id);
    if (cb === undefined || !ca.usable_for_gate || !cb.usable_for_gate) continue;
    base.comparisons.push(...measureCells(ca.id, ca, cb, false, scaled));
  }
  if (base.comparisons.length === 0) return counted({ ...base, comparable: false, why_not: 'no usable cell appears in both runs' });
  judgeAll(`${a.run_id} -> ${b.run_id}`, base.comparisons, o);
  return counted({ ...base, comparable: true, why_not: null });
}

/** An arm comparison that cannot be made: bad input (exit 2), with the reason. */
export class ArmsError extends Error {
  override readonly name = 'ArmsError';
}

/** The cell's place without its arm: variant, workload, backend and concurrency. */
export const cellGroup = (c: CellFigures): string => `${c.variant}.${c.workload}.${c.backend}.c${c.concurrency}`;

/**
 * Arm `b` against arm `a` (mode-set labels) of one run, cell group by cell
 * group, paired round by round. Throws ArmsError for an unknown arm, the
 * same arm twice, or arms that share no cell group.
 */
export function compareArms(run: RunFigures, a: string, b: string, o: GateOptions = DEFAULT_GATE): RunComparison {
  const arms = [...new Set(run.cells.map((c) => c.mode_set))];
  for (const arm of [a, b]) if (!arms.includes(arm)) throw new ArmsError(`--arms: no arm '${arm}' in run ${run.run_id} (its arms: ${arms.join(', ')})`);
  if (a === b) throw new ArmsError(`--arms: '${a}' is named twice; name two different arms`);
  const ofArm = (arm: string): CellFigures[] => run.cells.filter((c) => c.mode_set === arm);
  const other = (c: CellFigures, arm: string): CellFigures | undefined => ofArm(arm).find((d) => cellGroup(d) === cellGroup(c));
  const pairs = ofArm(a).flatMap((ca) => {
    const cb = other(ca, b);
    return cb === undefined ? [] : [[ca, cb] as const];
  });
  if (pairs.length === 0) {
    throw new ArmsError(
      `--arms ${a},${b}: the arms share no cell (workload, backend, concurrency): ${a} ran ${ofArm(a).map(cellGroup).join(', ')}; ${b} ran ${ofArm(b).map(cellGroup).join(', ')}`,
    );
  }
  const comparisons = pairs
    .filter(([ca, cb]) => ca.usable_for_gate && cb.usable_for_gate)
    .flatMap(([ca, cb]) => measureCells(cellGroup(ca), ca, cb, true, false));
  const base = {
    baseline_run: `${run.run_id}:${a}`,
    candidate_run: `${run.run_id}:${b}`,
    comparisons,
    only_in_baseline: ofArm(a)
      .filter((c) => other(c, b) === undefined)
      .map((c) => c.id),
    only_in_candidate: ofArm(b)
      .filter((c) => other(c, a) === undefined)
      .map((c) => c.id),
  };
  if (comparisons.length === 0)
    return counted({ ...base, comparable: false, why_not: 'no cell of both arms is usable (failures, observability gaps or state mismatch)' });
  judgeAll(`${a} -> ${b}`, comparisons, o);
  return counted({ ...base, comparable: true, why_not: null });
}
