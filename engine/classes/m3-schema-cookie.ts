// M3 — schema cookie + generation: per-connection scalar invalidation tokens.
// A mismatch against the transaction's committed schema invalidates local
// prepared state and triggers a reprepare; nothing is published.

import { COL, kindOf } from '../records/columns.ts';
import type { RecordSink } from '../records/sink.ts';
import { injectDelay, type ClassContext } from './context.ts';

const C = COL.M3;
const CHECK = kindOf('M3', 'check');
const INVALIDATE = kindOf('M3', 'invalidate');

export class M3SchemaTokens {
  schema_cookie = -1;
  schema_generation = -1;
  constructor(private readonly ctx: ClassContext) {}

  /** Compares the local tokens with the committed ones; true if prepared state must be rebuilt. */
  check(cookie: number, generation: number): boolean {
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start();
    injectDelay(this.ctx, 'M3');
    const stale = cookie !== this.schema_cookie || generation !== this.schema_generation;
    if (sink !== null) row(sink, CHECK, t0, cookie, generation, stale);
    if (stale) {
      this.schema_cookie = cookie;
      this.schema_generation = generation;
      if (sink !== null) row(sink, INVALIDATE, t0, cookie, generation, true);
    }
    return stale;
  }
}

function row(sink: RecordSink, kind: number, t0: number, cookie: number, generation: number, reprepare: boolean): void {
  const o = sink.open(kind, t0);
  const r = sink.rows;
  r[o + C.schema_cookie] = cookie;
  r[o + C.schema_generation] = generation;
  r[o + C.reprepare_triggered] = reprepare ? 1 : 0;
  sink.done();
}
