// How many measured rounds a run's cells ran against the asked --rounds: a
// target adds rounds, a time budget trims them. The first screen and the
// nightly report both say it.

import type { RunRecord } from './record.ts';

export interface RoundsRan {
  /** --rounds. */
  asked: number;
  /** The fewest and most a cell ran (0 when none ran). */
  least: number;
  most: number;
  /** The time budget that may have trimmed them (ms; null: none). */
  max_time_ms: number | null;
}

/** Failed cells, which stop early, are left out. */
export function roundsRan(run: RunRecord): RoundsRan {
  const counts = run.cells.filter((c) => c.status === 'ok').map((c) => c.rounds.length);
  return {
    asked: run.config.rounds,
    least: counts.length === 0 ? 0 : Math.min(...counts),
    most: counts.length === 0 ? 0 : Math.max(...counts),
    max_time_ms: run.config.min_rounds != null ? (run.config.max_time_ms ?? null) : null,
  };
}

/** Whether a time budget ran some cell short of --rounds. */
export const trimmed = (r: RoundsRan): boolean => r.max_time_ms !== null && r.least < r.asked;
