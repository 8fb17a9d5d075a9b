// The twin: one more arm in every group of the reference engine, running the
// group's own workload in legacy modes on a frozen build of the engine
// (runtime/yardstick.ts's TWIN_BUILD), interleaved chunk by chunk with the
// arms like any other. Its busiest kind's median each round is that round's
// machine speed: the yardstick the rounds are scaled by to compare runs.
//
// Why an arm and not a unit timed between the chunks: the machine does not
// slow every kind of work alike, and what moves the engine from round to
// round moves every arm of the round together. Two identical arms of a round
// agreed to a per-round sd of 0.025, an arm and the frozen unit to 0.08. Over
// 16 runs of 12 rounds, an arm's level spread 0.011 from run to run scaled by
// the twin (sd of the log), 0.021 as measured and 0.041 scaled by the unit
// (docs/measured.md, 2026-12-08).
// The twin is not a result: it has no cell, no trigger and no fault.

import type { EngineBuild } from '../engines/build.ts';
import type { Cell, Group } from '../plan/matrix.ts';
import { TWIN_LABEL } from '../plan/modes.ts';
import type { RoundAggregate } from '../record/aggregate.ts';
import { latencyOpOf } from '../record/keys.ts';

/** The run's yardstick name when its rounds are scaled by the twin: the build and what it runs. */
export const twinYardstick = (build: EngineBuild): string => `${build.name}/twin-legacy`;

/** Whether a group runs a twin: every reference group of a run that has one. */
export const hasTwin = (group: Group, twin: boolean): boolean => twin && group.cells[0]!.variant === 'reference';

/** The arms a group measures each round, its twin included. */
export const armsOf = (group: Group, twin: boolean): number => group.cells.length + (hasTwin(group, twin) ? 1 : 0);

/** The twin arm of a group. */
export function twinCell(group: Group, build: EngineBuild): Cell {
  return {
    ...group.cells[0]!,
    id: `${group.key}.${TWIN_LABEL}`,
    modeSet: { label: TWIN_LABEL, modes: { M1: 0, M6: 0, M11: 0 }, faults: {}, build },
  };
}

/** The twin's reading of a round: its busiest kind's median latency (ns), or null when it has none. */
export function twinReading(aggregate: RoundAggregate, kind: string): number | null {
  for (const name of aggregate.histograms.keys()) {
    if (latencyOpOf(name) !== kind) continue;
    const p50 = aggregate.summary(name)?.p50;
    return p50 === undefined || p50 <= 0 ? null : p50;
  }
  return null;
}
