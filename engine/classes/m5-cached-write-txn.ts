// M5 — cached write transaction, `:memory:` only: after a commit the write
// transaction's session and committed state stay parked on the connection,
// and the next write transaction of the same kind reuses them when nothing
// else was committed and the schema is unchanged. A stale cookie, a DDL, a
// change of transaction kind, or a file backend means a fresh write begin.

import { COL, kindOf } from '../records/columns.ts';
import type { RecordSink } from '../records/sink.ts';
import type { PageStore } from '../store/page-store.ts';
import { injectDelay, type ClassContext } from './context.ts';
import { emptySummary, type M1PublishedPagerState } from './m1-published-pager-state.ts';
import type { CommittedState } from './m6-committed-state.ts';
import type { Session } from './m11-session-registry.ts';

const C = COL.M5;
const PARK = kindOf('M5', 'park');
const REUSE = kindOf('M5', 'reuse');
const INVALIDATE = kindOf('M5', 'invalidate');

export type WriteKind = 'write' | 'concurrent';

interface Retained {
  kind: WriteKind;
  session: Session;
  state: CommittedState;
}

export class M5CachedWriteTxn {
  private retained: Retained | null = null;
  private readonly probe = emptySummary();
  constructor(
    private readonly ctx: ClassContext,
    private readonly m1: M1PublishedPagerState,
    private readonly pages: PageStore,
    readonly isMemory: boolean,
  ) {}

  /** commit_and_retain: keeps the session and the just-committed state. File backends never park. */
  park(kind: WriteKind, session: Session, state: CommittedState): boolean {
    if (!this.isMemory) return false;
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start();
    this.retained = { kind, session, state: { ...state } };
    if (sink !== null) row(sink, PARK, t0, true, false);
    return true;
  }

  /**
   * Reuses the retained transaction if still current; sets the read horizon.
   * Returns its session, or null. On a miss the caller must end the returned
   * stale session (see `take`).
   */
  tryReuse(kind: WriteKind, slot: number, out: CommittedState): Session | null {
    const r = this.retained;
    if (r === null) return null;
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start();
    injectDelay(this.ctx, 'M5');
    let match = r.kind === kind && this.current(r.state);
    if (match) {
      this.pages.setHorizon(slot, r.state.commit_seq);
      match = this.current(r.state);
      if (!match) this.pages.clearHorizon(slot);
    }
    if (sink !== null) row(sink, match ? REUSE : INVALIDATE, t0, match, match);
    if (!match) return null;
    this.retained = null;
    Object.assign(out, r.state);
    return r.session;
  }

  /** Drops the retained transaction, handing back its session so the caller can end it. */
  take(): Session | null {
    const r = this.retained;
    this.retained = null;
    return r === null ? null : r.session;
  }

  private current(s: CommittedState): boolean {
    const now = this.m1.read(this.probe);
    return now.sequence_value === s.commit_seq && now.schema_cookie === s.schema_cookie;
  }
}

/** M5 exists only on :memory: databases, so is_memory is always true. */
function row(sink: RecordSink, kind: number, t0: number, cookieMatch: boolean, hit: boolean): void {
  const o = sink.open(kind, t0);
  const r = sink.rows;
  r[o + C.is_memory] = 1;
  r[o + C.cookie_match] = cookieMatch ? 1 : 0;
  r[o + C.cache_hit] = hit ? 1 : 0;
  sink.done();
}
