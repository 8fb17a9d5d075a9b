// The machine's speed, measured beside the engine. A shared 2-core VM
// switches between speeds (here: a fixed piece of work took 0.36 or 0.53 ms,
// round by round, and the engine's median latency 16 or 23 µs with it), and
// one run can spend most of its rounds at either. Arms of one run pair chunk
// by chunk, so this cancels within a run; between runs it does not, and one
// run's level swung by 10% (sd of log) on unchanged code. A fixed piece of
// work timed between the chunks moves with the engine, so dividing each
// round's figures by it compares runs at one machine speed.
//
// The machine does not slow every kind of work alike: between runs, a Map
// churn and a page-copying loop disagreed by 4-6% (sd of the log of their
// ratio, 20 runs). The work timed is therefore the engine's own, frozen
// (yardstick/frozen-engine.mjs, made by scripts/freeze-yardstick.ts), on a
// working set like a cell's. Measured in the same runs, the spread of
// commutative-inserts memory c1 between runs at one machine speed: see
// docs/measurement.md.
//
// The work must not change with the engine or the harness, or runs before and
// after the change would be scaled by different sticks. Freezing it again
// means a new YARDSTICK name; runs with different names are compared as
// measured.

import { fileURLToPath } from 'node:url';
import type { EngineBuild } from '../engines/build.ts';
import { createUnit, FROZEN_AT, UNIT } from './yardstick/frozen-engine.mjs';

/** The yardstick's name, recorded with every run that carries its readings. */
export const YARDSTICK = `engine@${FROZEN_AT.slice(0, 12)}/${UNIT}`;

/** The frozen engine as a build a twin arm runs (run/twin.ts): the same module the unit comes from. */
export const TWIN_BUILD: EngineBuild = {
  name: `engine@${FROZEN_AT.slice(0, 12)}`,
  file: fileURLToPath(new URL('./yardstick/frozen-engine.mjs', import.meta.url)),
};

/** Readings a round takes at most with several connections (one connection reads before every turn of the arms). */
export const YARDSTICK_READINGS = 10;

/**
 * Units run before the first reading: the frozen engine is compiled like any other code, and reaches its steady
 * speed after some 500 units (here a unit took 2.3 ms cold, 0.41 ms after 300, 0.31-0.33 ms from 500 on; its
 * database and these units take ~0.5 s, once per thread).
 */
const WARM_UNITS = 500;

/** The thread's unit, made and warmed at the first reading: one 32 MiB database per thread that reads. */
let unit: (() => number) | null = null;

/** Times one unit (ns); its result is kept in a field so the work cannot be optimised away. */
export class Yardstick {
  private sink = 0;

  time(): number {
    if (unit === null) {
      unit = createUnit();
      for (let i = 0; i < WARM_UNITS; i++) this.sink += unit();
    }
    const t0 = performance.now();
    this.sink += unit();
    return (performance.now() - t0) * 1e6;
  }
}
