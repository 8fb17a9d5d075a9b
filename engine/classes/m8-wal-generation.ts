// M8 — WAL generation identity: a copy-sized (checkpoint_seq, salts) token
// per handle. When another connection's checkpoint starts a new WAL
// generation, the comparison fails and the handle's derived state (M7) is
// rebuilt.

import { COL, kindOf } from '../records/columns.ts';
import type { RecordSink } from '../records/sink.ts';
import type { FileStore } from '../store/file-store.ts';
import { injectDelay, type ClassContext } from './context.ts';

const C = COL.M8;
const COMPARE = kindOf('M8', 'compare');
const REFRESH = kindOf('M8', 'refresh');

export class M8WalGeneration {
  checkpoint_seq = -1;
  private salt1 = 0;
  private salt2 = 0;
  constructor(
    private readonly ctx: ClassContext,
    private readonly file: FileStore,
  ) {}

  /** True when the WAL generation changed since this handle last looked (the handle then refreshes). */
  compare(): boolean {
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start();
    injectDelay(this.ctx, 'M8');
    const idx = this.file.index();
    const changed = idx.checkpoint_seq !== this.checkpoint_seq || idx.salt1 !== this.salt1 || idx.salt2 !== this.salt2;
    if (sink !== null) row(sink, COMPARE, t0, idx.checkpoint_seq, changed);
    if (changed) {
      this.checkpoint_seq = idx.checkpoint_seq;
      this.salt1 = idx.salt1;
      this.salt2 = idx.salt2;
      if (sink !== null) row(sink, REFRESH, t0, idx.checkpoint_seq, true);
    }
    return changed;
  }
}

function row(sink: RecordSink, kind: number, t0: number, checkpointSeq: number, saltsChanged: boolean): void {
  const o = sink.open(kind, t0);
  const r = sink.rows;
  r[o + C.checkpoint_seq] = checkpointSeq;
  r[o + C.salts_changed] = saltsChanged ? 1 : 0;
  sink.done();
}
