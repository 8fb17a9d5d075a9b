// `run --target-mde R --max-time T`: a group keeps adding paired rounds
// until every deciding comparison it offers has a minimum detectable effect
// at or below R (80% power, the gate's alpha over the run's family of
// deciding comparisons), or its share of T is spent. The comparisons are
// those the gate will judge (each promotion candidate arm against its
// all-legacy arm, on the busiest kind's median latency), so rounds go where
// a verdict needs them and the family is the gate's own; a run with no
// promotion candidate (A/A arms, `compare --arms`) offers every arm against
// its all-legacy one.

import { HAS_CONTROL_MODES } from '../engines/variants.ts';
import { modeName, SWITCHABLE_CLASSES } from '../../engine/index.ts';
import { candidateClasses } from '../gate/gate.ts';
import { PAIR_TRIM, pairedMde } from '../gate/mde.ts';
import { busiestKind, metricsOf, pairLogRatios } from '../gate/series.ts';
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

/** A group's arms that the gate judges against its baseline arm. */
function candidateArms(group: Group): number[] {
  const b = baselineArm(group);
  if (b < 0 || !HAS_CONTROL_MODES[group.cells[b]!.variant]) return [];
  return group.cells.flatMap((c, i) => {
    const names = Object.fromEntries(SWITCHABLE_CLASSES.map((cls) => [cls, modeName(cls, c.modeSet.modes[cls])]));
    return i !== b && candidateClasses(c.workload.spec.name, names).length > 0 ? [i] : [];
  });
}

/** The arms each group compares against its baseline arm: the gate's candidates, or every other arm when the run has none. */
export function decidingArms(groups: readonly Group[]): Map<Group, number[]> {
  const gated = new Map(groups.map((g) => [g, candidateArms(g)]));
  if ([...gated.values()].some((arms) => arms.length > 0)) return gated;
  return new Map(
    groups.map((g) => {
      const b = baselineArm(g);
      return [g, b < 0 ? [] : g.cells.flatMap((_, i) => (i === b ? [] : [i]))];
    }),
  );
}

/** The paired per-round log ratios of the deciding metric (the busiest kind's p50) of `cand` against `base`, as the gate pairs them. */
export function decidingLogRatios(base: readonly RoundSummary[], cand: readonly RoundSummary[]): number[][] {
  const kind = busiestKind({ rounds: base });
  if (kind === undefined) return [[]];
  const metric = `${kind}.latency_p50_ns`;
  const a = metricsOf({ rounds: base }).get(metric);
  const b = metricsOf({ rounds: cand }).get(metric);
  return [a === undefined || b === undefined ? [] : pairLogRatios(a, b)];
}

/** The largest MDE of a group's deciding comparisons (`arms` against its baseline) so far (Infinity when one cannot be computed yet). */
export function groupMde(
  group: Group,
  arms: readonly number[],
  results: ReadonlyMap<string, CellResult>,
  familySize: number,
  alpha = DEFAULT_GATE.alpha,
): number {
  const b = baselineArm(group);
  if (b < 0) return 0;
  const base = results.get(group.cells[b]!.id)?.rounds ?? [];
  let worst = 0;
  for (const i of arms)
    for (const lr of decidingLogRatios(base, results.get(group.cells[i]!.id)?.rounds ?? []))
      worst = Math.max(worst, pairedMde(lr, alpha / Math.max(1, familySize), DEFAULT_GATE.power, PAIR_TRIM, DEFAULT_GATE.min_effect));
  return worst;
}

/** Arms of some groups: a group's time is about proportional to its arms (each runs every round's slice). */
const armsOf = (groups: readonly Group[]): number => groups.reduce((n, g) => n + g.cells.length, 0);

/**
 * The `more` callback of runMatrix for a target (called after the run's
 * --rounds): another round while the group's MDE is above target and the
 * group is within its allowance. When a group first asks, the time the
 * groups after it need for their --rounds is set aside (at the time per arm
 * of the groups so far), and the rest of the budget is shared between this
 * group and the later judged groups expected to ask for more: as many as the
 * share of judged groups so far that missed the target after their --rounds
 * (Laplace's rule: (missed + 1) / (seen + 2)). An even share among every later
 * group starved an early noisy one: the main job's commutative-inserts file c4,
 * fourth of twenty, got 3 rounds more while most later groups needed none.
 */
export function targetMdeLoop(
  target: TargetMde,
  groups: readonly Group[],
  startedMs: number = Date.now(),
  now: () => number = Date.now,
): (group: Group, round: number, results: ReadonlyMap<string, CellResult>) => boolean {
  const arms = decidingArms(groups);
  const family = [...arms.values()].reduce((n, a) => n + a.length, 0);
  const deadlines = new Map<Group, number>();
  let seen = 0;
  let missed = 0;
  return (group, _round, results) => {
    const mine = arms.get(group) ?? [];
    if (mine.length === 0) return false;
    const needs = groupMde(group, mine, results, family) > target.mde;
    let deadline = deadlines.get(group);
    if (deadline === undefined) {
      const i = groups.indexOf(group);
      const t = now();
      const spent = t - startedMs;
      const reserve = (spent * armsOf(groups.slice(i + 1))) / armsOf(groups.slice(0, i + 1));
      const later = groups.slice(i + 1).filter((g) => (arms.get(g)?.length ?? 0) > 0).length;
      const askers = 1 + (later * (missed + 1)) / (seen + 2);
      deadline = t + Math.max(0, target.maxTimeMs - spent - reserve) / askers;
      deadlines.set(group, deadline);
      seen++;
      if (needs) missed++;
    }
    return needs && now() < deadline;
  };
}
