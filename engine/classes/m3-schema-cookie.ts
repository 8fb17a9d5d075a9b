// M3 — schema cookie + generation: per-connection scalar invalidation tokens.
// A mismatch against the transaction's committed schema invalidates local
// prepared state and triggers a reprepare; nothing is published.

import { nowMs } from '../shared/clock.ts';
import { emit, injectDelay, type ClassContext } from './context.ts';

export class M3SchemaTokens {
  schema_cookie = -1;
  schema_generation = -1;
  constructor(private readonly ctx: ClassContext) {}

  /** Compares the local tokens with the committed ones; true if prepared state must be rebuilt. */
  check(cookie: number, generation: number): boolean {
    const t0 = this.ctx.hook === null ? 0 : nowMs();
    injectDelay(this.ctx, 'M3');
    const stale = cookie !== this.schema_cookie || generation !== this.schema_generation;
    if (this.ctx.hook !== null) {
      emit<'M3'>(this.ctx, t0, { metadata_class: 'M3', operation: 'check', schema_cookie: cookie, schema_generation: generation, reprepare_triggered: stale });
    }
    if (stale) {
      this.schema_cookie = cookie;
      this.schema_generation = generation;
      if (this.ctx.hook !== null) {
        emit<'M3'>(this.ctx, t0, { metadata_class: 'M3', operation: 'invalidate', schema_cookie: cookie, schema_generation: generation, reprepare_triggered: true });
      }
    }
    return stale;
  }
}
