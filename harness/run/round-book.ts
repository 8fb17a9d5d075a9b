// One round of a group while it runs: each arm's aggregate, totals and
// chunks, summed over its connections' reports, and whether its slice
// completed.

import type { ChunkFigures, SliceReport } from '../pool/task.ts';
import { RoundAggregate } from '../record/aggregate.ts';

/** The scheduler's view of one arm in one round, summed over its connections. */
export interface RoundSched {
  cpu_ms: number;
  runq_ms: number;
  /** Connection-milliseconds of wall time (wall × connections). */
  wall_ms: number;
}

/**
 * An arm's chunks in an interleaved round, over its connections: each chunk's
 * wall time (the slowest connection: the chunk ends at the barrier) and median
 * latency of the busiest kind (the geometric mean of the connections' medians).
 */
export interface RoundChunks {
  /** The operation kind whose median each chunk holds: the spec's busiest. */
  kind: string;
  wall_ms: number[];
  p50_ns: number[];
}

export class RoundBook {
  readonly aggregates: RoundAggregate[];
  readonly totals: { operations: number; measured_ms: number; sched: RoundSched | null }[];
  readonly ran: boolean[];
  private readonly chunks: ChunkFigures[][];
  private reading: number | null = null;

  constructor(
    arms: number,
    /** The busiest operation kind: the one chunks and the twin's reading are of. */
    readonly kind: string,
  ) {
    this.aggregates = Array.from({ length: arms }, () => new RoundAggregate());
    this.totals = Array.from({ length: arms }, () => ({ operations: 0, measured_ms: 0, sched: { cpu_ms: 0, runq_ms: 0, wall_ms: 0 } }));
    this.ran = new Array<boolean>(arms).fill(false);
    this.chunks = Array.from({ length: arms }, () => []);
  }

  add(arm: number, r: SliceReport): void {
    const t = this.totals[arm]!;
    t.operations += r.operations;
    t.measured_ms = Math.max(t.measured_ms, r.wall_ms);
    if (r.sched === null || t.sched === null) t.sched = null;
    else {
      t.sched.cpu_ms += r.sched.cpu_ns / 1e6;
      t.sched.runq_ms += r.sched.runq_ns / 1e6;
      t.sched.wall_ms += r.wall_ms;
    }
    if (r.delta !== null) this.aggregates[arm]!.add(r.delta);
    if (r.chunks !== null) this.chunks[arm]!.push(r.chunks);
    // Connection 0 reads the yardstick, and each of its arm reports carries the round's reading.
    if (r.yardstick_ns !== null) this.reading = r.yardstick_ns;
  }

  /** The round's yardstick reading (ns): connection 0's median unit time; null when none came (not interleaved, a replay). */
  get yardstick_ns(): number | null {
    return this.reading;
  }

  /** The arm's chunks over its connections, or null when its round was not interleaved. */
  chunksOf(arm: number): RoundChunks | null {
    const per = this.chunks[arm]!;
    if (per.length === 0) return null;
    const n = Math.min(...per.map((c) => c.wall_ms.length));
    const wall_ms: number[] = [];
    const p50_ns: number[] = [];
    for (let j = 0; j < n; j++) {
      wall_ms.push(Math.max(...per.map((c) => c.wall_ms[j]!)));
      const medians = per.map((c) => c.p50_ns[j]!).filter((x) => x > 0);
      p50_ns.push(medians.length === 0 ? 0 : Math.round(Math.exp(medians.reduce((s, x) => s + Math.log(x), 0) / medians.length)));
    }
    return { kind: this.kind, wall_ms, p50_ns };
  }
}
