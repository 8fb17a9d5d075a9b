// M10 — cached VDBE engine: one executor per connection, reused between
// statements (registers reset, not reallocated) and rebuilt when the schema
// generation it was built for is no longer current.

import { nowMs } from '../shared/clock.ts';
import { Vdbe } from '../sql/vdbe.ts';
import { emit, injectDelay, type ClassContext } from './context.ts';

export class M10CachedVdbe {
  private engine: Vdbe | null = null;
  constructor(private readonly ctx: ClassContext) {}

  acquire(schemaGeneration: number): Vdbe {
    const t0 = this.ctx.hook === null ? 0 : nowMs();
    injectDelay(this.ctx, 'M10');
    const cached = this.engine;
    if (cached !== null && cached.schemaGeneration === schemaGeneration) {
      const r0 = this.ctx.hook === null ? 0 : nowMs();
      cached.reset();
      if (this.ctx.hook !== null) {
        emit<'M10'>(this.ctx, t0, { metadata_class: 'M10', operation: 'reuse', schema_generation: schemaGeneration, cache_hit: true, reset_ns: Math.round((nowMs() - r0) * 1e6) });
      }
      return cached;
    }
    if (cached !== null && this.ctx.hook !== null) {
      emit<'M10'>(this.ctx, t0, { metadata_class: 'M10', operation: 'invalidate', schema_generation: cached.schemaGeneration, cache_hit: false, reset_ns: 0 });
    }
    this.engine = new Vdbe(schemaGeneration);
    if (this.ctx.hook !== null) {
      emit<'M10'>(this.ctx, t0, { metadata_class: 'M10', operation: 'rebuild', schema_generation: schemaGeneration, cache_hit: false, reset_ns: 0 });
    }
    return this.engine;
  }
}
