// M8 — WAL generation identity: a copy-sized (checkpoint_seq, salts) token
// per handle. When another connection's checkpoint starts a new WAL
// generation, the comparison fails and the handle's derived state (M7) is
// rebuilt.

import { nowMs } from '../shared/clock.ts';
import type { FileStore } from '../store/file-store.ts';
import { emit, injectDelay, type ClassContext } from './context.ts';

export class M8WalGeneration {
  checkpoint_seq = -1;
  private salt1 = 0;
  private salt2 = 0;
  constructor(private readonly ctx: ClassContext, private readonly file: FileStore) {}

  /** True when the WAL generation changed since this handle last looked (the handle then refreshes). */
  compare(): boolean {
    const t0 = this.ctx.hook === null ? 0 : nowMs();
    injectDelay(this.ctx, 'M8');
    const idx = this.file.index();
    const changed = idx.checkpoint_seq !== this.checkpoint_seq || idx.salt1 !== this.salt1 || idx.salt2 !== this.salt2;
    if (this.ctx.hook !== null) {
      emit<'M8'>(this.ctx, t0, { metadata_class: 'M8', operation: 'compare', checkpoint_seq: idx.checkpoint_seq, salts_changed: changed });
    }
    if (changed) {
      this.checkpoint_seq = idx.checkpoint_seq;
      this.salt1 = idx.salt1;
      this.salt2 = idx.salt2;
      if (this.ctx.hook !== null) {
        emit<'M8'>(this.ctx, t0, { metadata_class: 'M8', operation: 'refresh', checkpoint_seq: idx.checkpoint_seq, salts_changed: true });
      }
    }
    return changed;
  }
}
