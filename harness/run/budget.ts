// `--max-time T` without --target-mde: at most --rounds measured rounds per
// group, fewer (never below --min-rounds) when the run would not end within
// T. The nightly runs so: at a yardstick reading of ~300 µs the same suite took
// 187 s where it takes 146 s at ~215 µs, the slices being sized to 100 ms
// while set-up, warm-up and reopening slow down with the machine.
//
// Past --min-rounds a group runs another round only if every later group
// could still run as many in what is left of T, at the time per arm and round
// and the set-up per group seen so far: the groups end with about as many
// rounds each, where a first-come share would starve the last ones. The
// wider MDE of a trimmed group is in its comparisons.

import type { Group } from '../plan/matrix.ts';

export interface RoundBudget {
  /** The run's wall-time budget (ms), from the start of its first group to the end of its last. */
  maxTimeMs: number;
  /** Measured rounds every group runs, whatever the time. */
  minRounds: number;
}

/** Since the decision before a group's first (the last group's end, this one's set-up, warm-up and first rounds), and its arm-rounds. */
/** --min-rounds when not given: two thirds of --rounds. */
export const defaultMinRounds = (rounds: number): number => Math.ceil((rounds * 2) / 3);

/** The weight of the latest timed round in the time per arm-round. */
const RECENT = 0.3;

interface Lead {
  ms: number;
  units: number;
}

/**
 * The `another` of runMatrix for a budget: called after measured round
 * `round` (>= budget.minRounds) of `group`; `maxRounds` is --rounds.
 */
export function roundBudgetLoop(
  budget: RoundBudget,
  maxRounds: number,
  warmupRounds: number,
  groups: readonly Group[],
  startedMs: number = Date.now(),
  now: () => number = Date.now,
): (group: Group, round: number) => boolean {
  const leads = new Map<Group, Lead>();
  let lastMs = startedMs;
  // Time per arm-round, from rounds timed one by one (a decision to the next within a group): recent ones weighing most
  // (the machine drifts), and all of them alike (groups differ: a file c4 round costs more than a memory c1 one).
  let recentMs: number | null = null;
  let timedMs = 0;
  let timedUnits = 0;
  return (group, round) => {
    const t = now();
    const arms = group.cells.length;
    if (!leads.has(group)) {
      leads.set(group, { ms: t - lastMs, units: arms * (warmupRounds + budget.minRounds) });
    } else {
      const x = (t - lastMs) / arms;
      recentMs = recentMs === null ? x : recentMs + RECENT * (x - recentMs);
      timedMs += t - lastMs;
      timedUnits += arms;
    }
    lastMs = t;
    if (round >= maxRounds) return false;
    // Before any round was timed alone, the leads are all rounds: an estimate on the slow side.
    const seen = [...leads.values()];
    const perUnit = recentMs ?? sum(seen, (l) => l.ms) / sum(seen, (l) => l.units);
    // Later groups at the slower of the two: a budget overrun costs more than a round not run.
    const laterUnit = Math.max(perUnit, timedUnits > 0 ? timedMs / timedUnits : perUnit);
    const setupMs = Math.max(0, sum(seen, (l) => l.ms - l.units * perUnit) / seen.length);
    const later = groups.slice(groups.indexOf(group) + 1);
    const laterMs = sum(later, (g) => setupMs + g.cells.length * (warmupRounds + round + 1) * laterUnit);
    return t + arms * perUnit + laterMs <= startedMs + budget.maxTimeMs;
  };
}

const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((s, x) => s + f(x), 0);
