// M4 — cached read snapshot: when a read transaction ends, its committed
// state is parked on the connection; the next read transaction reuses it
// (skipping the M6 bind) if nothing was committed and the schema cookie still
// matches. Any write boundary or DDL invalidates it.

import { COL, kindOf } from '../records/columns.ts';
import type { RecordSink } from '../records/sink.ts';
import type { PageStore } from '../store/page-store.ts';
import { injectDelay, type ClassContext } from './context.ts';
import { emptySummary, type M1PublishedPagerState } from './m1-published-pager-state.ts';
import type { CommittedState } from './m6-committed-state.ts';

const C = COL.M4;
const PARK = kindOf('M4', 'park');
const REUSE = kindOf('M4', 'reuse');
const INVALIDATE = kindOf('M4', 'invalidate');

interface Parked {
  state: CommittedState;
  /** The statement count when the snapshot was first bound. */
  bornAt: number;
}

export class M4CachedReadSnapshot {
  private parked: Parked | null = null;
  private readonly probe = emptySummary();
  constructor(
    private readonly ctx: ClassContext,
    private readonly m1: M1PublishedPagerState,
    private readonly pages: PageStore,
  ) {}

  park(state: CommittedState, statements: number, bornAt: number | null): void {
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start();
    this.parked = { state: { ...state }, bornAt: bornAt ?? statements };
    if (sink !== null) row(sink, PARK, t0, true, statements - this.parked.bornAt, false);
  }

  /**
   * Reuses the parked snapshot if it is still the latest committed state;
   * on success the read horizon is set and `out` holds the state. Returns the
   * statement count the snapshot was born at, or null (a fresh begin is needed).
   */
  tryReuse(slot: number, statements: number, out: CommittedState): number | null {
    const p = this.parked;
    if (p === null) return null;
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start();
    injectDelay(this.ctx, 'M4');
    let match = this.current(p.state);
    if (match) {
      this.pages.setHorizon(slot, p.state.commit_seq);
      // A commit published between the check and the horizon may already be
      // recycling versions: then the snapshot is no longer safe to reuse.
      match = this.current(p.state);
      if (!match) this.pages.clearHorizon(slot);
    }
    if (sink !== null) row(sink, match ? REUSE : INVALIDATE, t0, match, statements - p.bornAt, match);
    if (!match) {
      this.parked = null;
      return null;
    }
    Object.assign(out, p.state);
    this.parked = null;
    return p.bornAt;
  }

  /** A write boundary or DDL on this connection. */
  invalidate(statements: number): void {
    const p = this.parked;
    if (p === null) return;
    this.parked = null;
    const sink = this.ctx.sink;
    if (sink !== null) row(sink, INVALIDATE, sink.start(), false, statements - p.bornAt, false);
  }

  private current(s: CommittedState): boolean {
    const now = this.m1.read(this.probe);
    return now.sequence_value === s.commit_seq && now.schema_cookie === s.schema_cookie;
  }
}

function row(sink: RecordSink, kind: number, t0: number, cookieMatch: boolean, ageStatements: number, hit: boolean): void {
  const o = sink.open(kind, t0);
  const r = sink.rows;
  r[o + C.cookie_match] = cookieMatch ? 1 : 0;
  r[o + C.snapshot_age_statements] = ageStatements;
  r[o + C.cache_hit] = hit ? 1 : 0;
  sink.done();
}
