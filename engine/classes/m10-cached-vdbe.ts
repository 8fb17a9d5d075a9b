// M10 — cached VDBE engine: one executor per connection, reused between
// statements (registers reset, not reallocated) and rebuilt when the schema
// generation it was built for is no longer current.

import { COL, NOT_MEASURED, kindOf } from '../records/columns.ts';
import type { RecordSink } from '../records/sink.ts';
import { nowMs } from '../shared/clock.ts';
import { Vdbe } from '../sql/vdbe.ts';
import { injectDelay, type ClassContext } from './context.ts';

const C = COL.M10;
const REUSE = kindOf('M10', 'reuse');
const REBUILD = kindOf('M10', 'rebuild');
const INVALIDATE = kindOf('M10', 'invalidate');

export class M10CachedVdbe {
  private engine: Vdbe | null = null;
  constructor(private readonly ctx: ClassContext) {}

  acquire(schemaGeneration: number): Vdbe {
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start();
    injectDelay(this.ctx, 'M10');
    const cached = this.engine;
    if (cached !== null && cached.schemaGeneration === schemaGeneration) {
      if (t0 === 0) {
        // A reset takes tens of ns, less than the two clock reads that would time it:
        // reset_ns is measured in timed transactions only, NOT_MEASURED elsewhere.
        cached.reset();
        if (sink !== null) row(sink, REUSE, 0, 0, schemaGeneration, true, NOT_MEASURED);
        return cached;
      }
      const r0 = nowMs();
      cached.reset();
      const r1 = nowMs();
      row(sink!, REUSE, t0, r1, schemaGeneration, true, Math.round((r1 - r0) * 1e6));
      return cached;
    }
    if (cached !== null && sink !== null) row(sink, INVALIDATE, t0, t0 === 0 ? 0 : nowMs(), cached.schemaGeneration, false, 0);
    this.engine = new Vdbe(schemaGeneration);
    if (sink !== null) row(sink, REBUILD, t0, t0 === 0 ? 0 : nowMs(), schemaGeneration, false, 0);
    return this.engine;
  }
}

function row(sink: RecordSink, kind: number, t0: number, t1: number, generation: number, hit: boolean, resetNs: number): void {
  const o = sink.open(kind, t0, t1);
  const r = sink.rows;
  r[o + C.schema_generation] = generation;
  r[o + C.cache_hit] = hit ? 1 : 0;
  r[o + C.reset_ns] = resetNs;
  sink.done();
}
