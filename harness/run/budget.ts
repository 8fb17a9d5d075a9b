// `--max-time T` without --target-mde: at most --rounds measured rounds per
// group, fewer (never below --min-rounds) when the run would not end within
// T. The nightly runs so: at a yardstick reading of ~300 µs the same suite took
// 187 s where it takes 146 s at ~215 µs, the slices being sized to 100 ms
// while set-up, warm-up and reopening slow down with the machine.
//
// Past --min-rounds a group runs another round only if every later group
// could still run as many in what is left of T, at the time per arm-round
// the groups done took: the groups end with roughly as many rounds each,
// where a first-come share would starve the last ones. The wider MDE of a
// trimmed group is in its comparisons.

import type { Group } from '../plan/matrix.ts';
import { armsOf } from './twin.ts';

export interface RoundBudget {
  /** The run's wall-time budget (ms), from the start of its first group to the end of its last. */
  maxTimeMs: number;
  /** Measured rounds every group runs, whatever the time. */
  minRounds: number;
  /** Whether reference groups run a twin arm (run/twin.ts), which takes its share of every round. */
  twin?: boolean;
}

/** --min-rounds when not given: two thirds of --rounds. */
export const defaultMinRounds = (rounds: number): number => Math.ceil((rounds * 2) / 3);

/** The weight of the latest timed round in the time per arm-round. */
const RECENT = 0.3;
/** How far over the budget a projection may run, in the share of the run still ahead. */
const LENIENCY = 0.1;

/** Time and arm-rounds (arms × rounds, warm-up included) of a group: from the decision before its first to its last. */
interface Spent {
  ms: number;
  units: number;
}

/**
 * The `another` of runMatrix for a budget: called after measured round
 * `round` (>= budget.minRounds) of `group`; `maxRounds` is --rounds.
 *
 * Later groups are projected at the time per arm-round of the groups done,
 * each whole (set-up, warm-up, every round): splitting a group's lead into
 * set-up and rounds at another group's round time made a file c4 group's
 * set-up look like seconds, which, laid on every later group, trimmed a
 * 141 s night with 29 s to spare. Every group done counts, the first
 * (which holds the run's start-up too) included: without it, a dear
 * checkpoint-churn file c4 alone trimmed the next group to 8 rounds on
 * 143 s nights.
 */
export function roundBudgetLoop(
  budget: RoundBudget,
  maxRounds: number,
  warmupRounds: number,
  groups: readonly Group[],
  startedMs: number = Date.now(),
  now: () => number = Date.now,
): (group: Group, round: number) => boolean {
  const done: Spent[] = [];
  let current: { group: Group; lead: Spent; spent: Spent } | null = null;
  let lastMs = startedMs;
  // The current group's recent round time per arm (the machine drifts).
  let recentMs: number | null = null;
  return (group, round) => {
    const t = now();
    const arms = armsOf(group, budget.twin === true);
    if (current?.group !== group) {
      if (current !== null) done.push(current.spent);
      const lead = { ms: t - lastMs, units: arms * (warmupRounds + budget.minRounds) };
      current = { group, lead, spent: { ...lead } };
      recentMs = null;
    } else {
      const x = (t - lastMs) / arms;
      recentMs = recentMs === null ? x : recentMs + RECENT * (x - recentMs);
      current.spent.ms += t - lastMs;
      current.spent.units += arms;
    }
    lastMs = t;
    if (round >= maxRounds) return false;
    // Before any round was timed alone, this group's lead (set-up and rounds): an estimate on the slow side.
    const thisUnit = recentMs ?? current.lead.ms / current.lead.units;
    const basis = done.length > 0 ? done : [current.spent];
    const laterUnit = sum(basis, (x) => x.ms) / sum(basis, (x) => x.units);
    const later = groups.slice(groups.indexOf(group) + 1);
    const laterUnits = sum(later, (g) => armsOf(g, budget.twin === true) * (warmupRounds + round + 1));
    // A few groups tell little of the rest (a cheap c1 group, then a dear c4 one): the projection may run over the
    // budget by up to LENIENCY in the share of the run still ahead, so early groups are not trimmed on a guess.
    const allowance = budget.maxTimeMs * (1 + (LENIENCY * laterUnits) / (laterUnits + sum(done, (x) => x.units) + current.spent.units));
    return t + arms * thisUnit + laterUnits * laterUnit <= startedMs + allowance;
  };
}

const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((s, x) => s + f(x), 0);
