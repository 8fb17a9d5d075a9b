// M9 — MemDB visible commit seq gate (memory backend): a local monotone gate
// guarding the connection's cache of page copies. When a transaction binds a
// state newer than the gate, the local view is refreshed; the connection's
// own commits advance the gate and write through.

import { nowMs } from '../shared/clock.ts';
import type { M9Record } from '../fields.ts';
import { emit, injectDelay, type ClassContext } from './context.ts';

const CAPACITY = 512;

/** `P` is the connection's page representation; the gate never looks inside. */
export class M9MemdbGate<P> {
  visible_commit_seq = -1;
  private schemaCookie = -1;
  private readonly cache = new Map<number, P>();
  constructor(private readonly ctx: ClassContext) {}

  /** Checks the gate against the state a transaction bound; refreshes the local view if stale. */
  check(commitSeq: number, schemaCookie: number): void {
    const t0 = this.ctx.hook === null ? 0 : nowMs();
    injectDelay(this.ctx, 'M9');
    const stale = commitSeq !== this.visible_commit_seq;
    let reason: M9Record['refresh_reason'] = 'none';
    if (stale) reason = this.visible_commit_seq < 0 ? 'initial' : schemaCookie !== this.schemaCookie ? 'schema_change' : 'remote_commit';
    if (this.ctx.hook !== null) {
      emit<'M9'>(this.ctx, t0, { metadata_class: 'M9', operation: 'check', visible_commit_seq: this.visible_commit_seq, stale_detected: stale, refresh_reason: reason });
    }
    if (stale) {
      this.cache.clear();
      this.visible_commit_seq = commitSeq;
      this.schemaCookie = schemaCookie;
      if (this.ctx.hook !== null) {
        emit<'M9'>(this.ctx, t0, { metadata_class: 'M9', operation: 'refresh', visible_commit_seq: commitSeq, stale_detected: true, refresh_reason: reason });
      }
    }
  }

  /** A cached copy of `pgno` valid at the gate's sequence, if any. */
  get(pgno: number, snapshotSeq: number): P | undefined {
    return snapshotSeq === this.visible_commit_seq ? this.cache.get(pgno) : undefined;
  }

  put(pgno: number, snapshotSeq: number, page: P): void {
    if (snapshotSeq !== this.visible_commit_seq) return;
    if (this.cache.size >= CAPACITY) this.cache.clear();
    this.cache.set(pgno, page);
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
    for (const [pgno, page] of written) this.put(pgno, commitSeq, page);
  }
}
