// `run --target-mde R --max-time T`: a group keeps adding paired rounds
// until every deciding metric of every comparison it offers the gate has a
// minimum detectable effect at or below R (80% power, the gate's alpha over
// the run's family of deciding comparisons), or its share of T is spent.
// A group offers one comparison per arm against its all-legacy arm (the
// gate's baseline comparator), on the busiest kind's median latency: the
// gate's deciding metric.

import { pairedMde } from '../gate/mde.ts';
import { DEFAULT_GATE } from '../gate/options.ts';
import type { Group } from '../plan/matrix.ts';
import type { CellResult, RoundSummary } from './runner.ts';

export interface TargetMde {
  /** The MDE every deciding comparison must reach (a fraction, e.g. 0.05). */
  mde: number;
  /** The whole run's budget (ms): group i of G must be done by (i + 1) / G of it, so time an early group saves goes to later ones. */
  maxTimeMs: number;
}

/** The all-legacy arm the gate compares against, preferring one no fault was scoped to. */
export function baselineArm(group: Group): number {
  const legacy = group.cells.map((c, i) => ({ c, i })).filter(({ c }) => Object.values(c.modeSet.modes).every((m) => m === 0));
  return (legacy.find(({ c }) => Object.keys(c.modeSet.faults).length === 0) ?? legacy[0])?.i ?? -1;
}

/** The deciding comparisons a group offers: every other arm against its baseline. */
export const decidingComparisons = (group: Group): number => (baselineArm(group) < 0 ? 0 : group.cells.length - 1);

/** The paired per-round log ratios of the deciding metric (the busiest kind's p50) of `cand` against `base`. */
export function decidingLogRatios(base: readonly RoundSummary[], cand: readonly RoundSummary[]): number[][] {
  const byRound = new Map(base.filter((r) => r.failures.length === 0).map((r) => [r.round, r]));
  const kinds = new Map<string, number>();
  for (const r of base) for (const [k, s] of Object.entries(r.latency_ns)) kinds.set(k, (kinds.get(k) ?? 0) + s.count);
  const busiest = [...kinds].sort((a, b) => b[1] - a[1])[0]?.[0];
  const p50: number[] = [];
  for (const c of cand) {
    const b = byRound.get(c.round);
    if (b === undefined || c.failures.length > 0) continue;
    const bp = busiest === undefined ? undefined : b.latency_ns[busiest]?.p50;
    const cp = busiest === undefined ? undefined : c.latency_ns[busiest]?.p50;
    if (bp !== undefined && cp !== undefined && bp > 0 && cp > 0) p50.push(Math.log(cp / bp));
  }
  return [p50];
}

/** The largest MDE of a group's deciding comparisons so far (Infinity when one cannot be computed yet). */
export function groupMde(group: Group, results: ReadonlyMap<string, CellResult>, familySize: number, alpha = DEFAULT_GATE.alpha): number {
  const b = baselineArm(group);
  if (b < 0) return 0;
  const base = results.get(group.cells[b]!.id)?.rounds ?? [];
  let worst = 0;
  group.cells.forEach((cell, i) => {
    if (i === b) return;
    for (const lr of decidingLogRatios(base, results.get(cell.id)?.rounds ?? [])) worst = Math.max(worst, pairedMde(lr, alpha / Math.max(1, familySize)));
  });
  return worst;
}

/**
 * The `more` callback of runMatrix for a target (called after the run's
 * --rounds): another round while the group's MDE is above target and the
 * group is within its share of the time.
 */
export function targetMdeLoop(
  target: TargetMde,
  groups: readonly Group[],
  startedMs: number = Date.now(),
): (group: Group, round: number, results: ReadonlyMap<string, CellResult>) => boolean {
  const family = groups.reduce((n, g) => n + decidingComparisons(g), 0);
  return (group, _round, results) => {
    const due = (target.maxTimeMs * (groups.indexOf(group) + 1)) / groups.length;
    if (Date.now() - startedMs >= due) return false;
    return groupMde(group, results, family) > target.mde;
  };
}
