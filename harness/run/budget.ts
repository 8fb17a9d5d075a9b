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

/** --min-rounds when not given: two thirds of --rounds. */
export const defaultMinRounds = (rounds: number): number => Math.ceil((rounds * 2) / 3);

/** The weight of the latest timed round in the time per arm-round. */
const RECENT = 0.3;

/** What a group showed: its lead (from the decision before its first to its first: the last group's end, its set-up, warm-up and first rounds) and its rounds timed one by one. */
interface Seen {
  leadMs: number;
  leadUnits: number;
  timedMs: number;
  timedUnits: number;
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
  const seen = new Map<Group, Seen>();
  let lastMs = startedMs;
  // This group's next round at its recent time per arm-round; later groups at the mean of every timed round: groups
  // differ (a file c4 round costs more than a memory c1 one), and projecting them at the last group's rounds trimmed
  // nights that had 12% to spare. A machine that slows mid-run is seen late: 0.3% over in the tests' case.
  let recentMs: number | null = null;
  return (group, round) => {
    const t = now();
    const arms = group.cells.length;
    const mine = seen.get(group);
    if (mine === undefined) {
      seen.set(group, { leadMs: t - lastMs, leadUnits: arms * (warmupRounds + budget.minRounds), timedMs: 0, timedUnits: 0 });
      recentMs = null;
    } else {
      const x = (t - lastMs) / arms;
      recentMs = recentMs === null ? x : recentMs + RECENT * (x - recentMs);
      mine.timedMs += t - lastMs;
      mine.timedUnits += arms;
    }
    lastMs = t;
    if (round >= maxRounds) return false;
    const all = [...seen.values()];
    const timedUnits = sum(all, (s) => s.timedUnits);
    // Before any round was timed alone, the leads are all rounds (their set-up too): an estimate on the slow side.
    const meanUnit = timedUnits > 0 ? sum(all, (s) => s.timedMs) / timedUnits : sum(all, (s) => s.leadMs) / sum(all, (s) => s.leadUnits);
    const perUnit = recentMs ?? meanUnit;
    // A group's set-up: its lead less its rounds at its own time per arm-round. The first group's holds the run's
    // one-time start too (threads, compilation): left out once another group is known.
    const setups = all.map((s) => s.leadMs - s.leadUnits * (s.timedUnits > 0 ? s.timedMs / s.timedUnits : meanUnit));
    const usable = setups.length > 1 ? setups.slice(1) : setups;
    const setupMs = Math.max(0, sum(usable, (x) => x) / usable.length);
    const later = groups.slice(groups.indexOf(group) + 1);
    const laterMs = sum(later, (g) => setupMs + g.cells.length * (warmupRounds + round + 1) * meanUnit);
    return t + arms * perUnit + laterMs <= startedMs + budget.maxTimeMs;
  };
}

const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((s, x) => s + f(x), 0);
