// M9 — MemDB visible commit seq gate (memory backend): a local monotone gate
// guarding the connection's cache of page copies. When a transaction binds a
// state newer than the gate, the local view is refreshed; the connection's
// own commits advance the gate and write through.

import { COL, kindOf } from '../records/columns.ts';
import type { RecordSink } from '../records/sink.ts';
import { injectDelay, type ClassContext } from './context.ts';

const C = COL.M9;
const CHECK = kindOf('M9', 'check');
const REFRESH = kindOf('M9', 'refresh');
/** refresh_reason columns (indexes into REFRESH_REASONS). */
const NONE = 0;
const INITIAL = 1;
const REMOTE_COMMIT = 2;
const SCHEMA_CHANGE = 3;

const CAPACITY = 512;

/** Where the gate gets page buffers and gives them back (the connection's pool). */
export interface PageBuffers<P> {
  take(): P;
  give(page: P): void;
  copy(to: P, from: P): void;
}

/** `P` is the connection's page representation; the gate never looks inside. It owns the pages it caches. */
export class M9MemdbGate<P> {
  visible_commit_seq = -1;
  private schemaCookie = -1;
  private readonly cache = new Map<number, P>();
  constructor(
    private readonly ctx: ClassContext,
    private readonly buffers: PageBuffers<P>,
  ) {}

  /** Checks the gate against the state a transaction bound; refreshes the local view if stale. */
  check(commitSeq: number, schemaCookie: number): void {
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start();
    injectDelay(this.ctx, 'M9');
    const stale = commitSeq !== this.visible_commit_seq;
    let reason = NONE;
    if (stale) reason = this.visible_commit_seq < 0 ? INITIAL : schemaCookie !== this.schemaCookie ? SCHEMA_CHANGE : REMOTE_COMMIT;
    if (sink !== null) row(sink, CHECK, t0, this.visible_commit_seq, stale, reason);
    if (stale) {
      this.clear();
      this.visible_commit_seq = commitSeq;
      this.schemaCookie = schemaCookie;
      if (sink !== null) row(sink, REFRESH, t0, commitSeq, true, reason);
    }
  }

  /** A cached copy of `pgno` valid at the gate's sequence, if any. */
  get(pgno: number, snapshotSeq: number): P | undefined {
    return snapshotSeq === this.visible_commit_seq ? this.cache.get(pgno) : undefined;
  }

  /** Whether a page read at `snapshotSeq` may be cached. */
  accepts(snapshotSeq: number): boolean {
    return snapshotSeq === this.visible_commit_seq;
  }

  /** Caches `page` (taken from the buffers; the gate owns it now) when `accepts(snapshotSeq)`, else gives it back. */
  put(pgno: number, snapshotSeq: number, page: P): void {
    if (snapshotSeq !== this.visible_commit_seq) {
      this.buffers.give(page);
      return;
    }
    const old = this.cache.get(pgno);
    if (old !== undefined) this.buffers.give(old);
    else if (this.cache.size >= CAPACITY) this.clear();
    this.cache.set(pgno, page);
  }

  private clear(): void {
    for (const page of this.cache.values()) this.buffers.give(page);
    this.cache.clear();
  }

  /**
   * The connection committed `commitSeq` on top of `snapshotSeq`. If the gate
   * was current and nobody committed in between, the gate advances and the
   * written pages are cached; otherwise the gate stays behind (monotone) and
   * the next check refreshes.
   */
  localCommit(snapshotSeq: number, commitSeq: number, schemaCookie: number, written: Map<number, P>): void {
    if (this.visible_commit_seq !== snapshotSeq || commitSeq !== snapshotSeq + 1 || schemaCookie !== this.schemaCookie) return;
    this.visible_commit_seq = commitSeq;
    // Copies: the transaction's buffers go back to the connection.
    for (const [pgno, page] of written) {
      const copy = this.buffers.take();
      this.buffers.copy(copy, page);
      this.put(pgno, commitSeq, copy);
    }
  }
}

function row(sink: RecordSink, kind: number, t0: number, visibleSeq: number, stale: boolean, reason: number): void {
  const o = sink.open(kind, t0);
  const r = sink.rows;
  r[o + C.visible_commit_seq] = visibleSeq;
  r[o + C.stale_detected] = stale ? 1 : 0;
  r[o + C.refresh_reason] = reason;
  sink.done();
}
