// M7 — WAL frame count + running checksum: each connection handle keeps its
// own copy and refreshes it from the WAL file; nothing shared is cached.
// A writer appends from its refreshed copy, chaining the checksum.

import { nowMs } from '../shared/clock.ts';
import { EngineError } from '../errors.ts';
import { COL, kindOf } from '../records/columns.ts';
import type { RecordSink } from '../records/sink.ts';
import type { DurableState, FileStore, FrameToWrite, WalIndex } from '../store/file-store.ts';
import { injectDelay, type ClassContext } from './context.ts';

const C = COL.M7;
const REFRESH = kindOf('M7', 'refresh');
const APPEND = kindOf('M7', 'append');

export class M7WalFrameState {
  frame_count = 0;
  checkpoint_seq = -1;
  private cksum1 = 0;
  private cksum2 = 0;

  constructor(
    private readonly ctx: ClassContext,
    private readonly file: FileStore,
  ) {}

  /**
   * Catches up with frames other handles appended. `rebuild` (from M8) means
   * the WAL restarted, so the local copy is rebuilt from the new header.
   * The running checksum is read back from the last frame in the file and
   * must agree with the index: a WAL that disagrees is corrupt.
   */
  refresh(rebuild: boolean): void {
    const t0 = nowMs();
    injectDelay(this.ctx, 'M7');
    let idx = this.file.index();
    if (!rebuild && idx.mx_frame === this.frame_count && idx.checkpoint_seq === this.checkpoint_seq) return;
    // Readers refresh without the writer lock: when the file disagrees with
    // the index copy, it is corruption only if the index did not change
    // meanwhile (an append or a WAL restart bumps its seqlock).
    while (idx.mx_frame > 0 && !this.agrees(idx)) {
      if (this.file.indexSeq() === idx.seq) {
        throw new EngineError('corrupt', `WAL frame ${idx.mx_frame - 1}: checksum in file disagrees with the WAL index`, { frame: idx.mx_frame - 1 });
      }
      const again = this.file.index();
      if (again.checkpoint_seq !== idx.checkpoint_seq) rebuild = true;
      idx = again;
    }
    this.frame_count = idx.mx_frame;
    this.checkpoint_seq = idx.checkpoint_seq;
    this.cksum1 = idx.cksum1;
    this.cksum2 = idx.cksum2;
    const sink = this.ctx.sink;
    if (sink !== null) {
      // A refresh is always timed: its refresh_ns is the card's field.
      const t1 = nowMs();
      this.row(sink, REFRESH, t0, t1, Math.round((t1 - t0) * 1e6), rebuild);
    }
  }

  /** Whether the last frame in the file carries the running checksum the index says. */
  private agrees(idx: WalIndex): boolean {
    try {
      const last = this.file.readFrameHeader(idx.mx_frame - 1);
      return last.cksum1 === idx.cksum1 && last.cksum2 === idx.cksum2;
    } catch (err) {
      if (err instanceof EngineError && err.code === 'corrupt') return false;
      throw err;
    }
  }

  /** Appends a transaction from the local copy (refreshed under the writer lock). */
  append(frames: FrameToWrite[], commit: DurableState): void {
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start();
    [this.cksum1, this.cksum2] = this.file.append(this.frame_count, this.cksum1, this.cksum2, frames, commit);
    this.frame_count += frames.length;
    if (sink !== null) this.row(sink, APPEND, t0, t0 === 0 ? 0 : nowMs(), 0, false);
  }

  private row(sink: RecordSink, kind: number, t0: number, t1: number, refreshNs: number, rebuild: boolean): void {
    const o = sink.open(kind, t0, t1);
    const r = sink.rows;
    r[o + C.frame_count] = this.frame_count;
    r[o + C.checkpoint_seq] = this.checkpoint_seq;
    r[o + C.refresh_ns] = refreshNs;
    r[o + C.rebuild_required] = rebuild ? 1 : 0;
    sink.done();
  }
}
