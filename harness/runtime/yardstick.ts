// The machine's speed, measured beside the engine. A shared 2-core VM
// switches between speeds (here: a fixed piece of work took 0.36 or 0.53 ms,
// round by round, and the engine's median latency 16 or 23 µs with it), and
// one run can spend most of its rounds at either. Arms of one run pair chunk
// by chunk, so this cancels within a run; between runs it does not, and one
// run's level swung by 10% (sd of log) on unchanged code. A fixed piece of
// work timed between the chunks moves with the engine (the two flipped
// together in every round measured), so dividing each round's figures by it
// compares runs at one machine speed: sd between runs 0.10 -> 0.029 on
// commutative-inserts memory c1 (14 runs of 12 rounds).
//
// The work is frozen: it must not change with the engine or the harness,
// or runs before and after the change would be scaled by different
// sticks. Changing it means a new YARDSTICK name; runs with different names
// are compared as measured.

/** The yardstick's name, recorded with every run that carries its readings. */
export const YARDSTICK = 'map-churn-2000/1';

const KEYS = 4096;
const ITERATIONS = 2000;

/** One unit of the yardstick's work: small objects into and out of a Map, as an engine's in-memory structures churn. */
export function yardstickUnit(): number {
  const m = new Map<number, { k: number; v: number; s: string }>();
  let acc = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const k = (i * 2654435761) % KEYS;
    m.set(k, { k, v: i, s: `r${k}` });
    const g = m.get((k * 7) % KEYS);
    if (g !== undefined) acc += g.v + g.s.length;
  }
  return acc;
}

/** Readings a round takes at most with several connections (one connection reads before every turn of the arms). */
export const YARDSTICK_READINGS = 10;

/** Times one unit (ns); its result is kept in a field so the work cannot be optimised away. */
export class Yardstick {
  private sink = 0;

  time(): number {
    const t0 = performance.now();
    this.sink += yardstickUnit();
    return (performance.now() - t0) * 1e6;
  }
}
