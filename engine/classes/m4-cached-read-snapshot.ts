// M4 — cached read snapshot: when a read transaction ends, its committed
// state is parked on the connection; the next read transaction reuses it
// (skipping the M6 bind) if nothing was committed and the schema cookie still
// matches. Any write boundary or DDL invalidates it.

import { nowMs } from '../shared/clock.ts';
import type { PageStore } from '../store/page-store.ts';
import { emit, injectDelay, type ClassContext } from './context.ts';
import { emptySummary, type M1PublishedPagerState } from './m1-published-pager-state.ts';
import type { CommittedState } from './m6-committed-state.ts';

interface Parked {
  state: CommittedState;
  /** The statement count when the snapshot was first bound. */
  bornAt: number;
}

export class M4CachedReadSnapshot {
  private parked: Parked | null = null;
  private readonly probe = emptySummary();
  constructor(private readonly ctx: ClassContext, private readonly m1: M1PublishedPagerState, private readonly pages: PageStore) {}

  park(state: CommittedState, statements: number, bornAt: number | null): void {
    const t0 = this.ctx.hook === null ? 0 : nowMs();
    this.parked = { state: { ...state }, bornAt: bornAt ?? statements };
    if (this.ctx.hook !== null) {
      emit<'M4'>(this.ctx, t0, { metadata_class: 'M4', operation: 'park', cookie_match: true, snapshot_age_statements: statements - this.parked.bornAt, cache_hit: false });
    }
  }

  /**
   * Reuses the parked snapshot if it is still the latest committed state;
   * on success the read horizon is set and `out` holds the state. Returns the
   * statement count the snapshot was born at, or null (a fresh begin is needed).
   */
  tryReuse(slot: number, statements: number, out: CommittedState): number | null {
    const p = this.parked;
    if (p === null) return null;
    const t0 = this.ctx.hook === null ? 0 : nowMs();
    injectDelay(this.ctx, 'M4');
    let match = this.current(p.state);
    if (match) {
      this.pages.setHorizon(slot, p.state.commit_seq);
      // A commit published between the check and the horizon may already be
      // recycling versions: then the snapshot is no longer safe to reuse.
      match = this.current(p.state);
      if (!match) this.pages.clearHorizon(slot);
    }
    if (this.ctx.hook !== null) {
      emit<'M4'>(this.ctx, t0, { metadata_class: 'M4', operation: match ? 'reuse' : 'invalidate', cookie_match: match, snapshot_age_statements: statements - p.bornAt, cache_hit: match });
    }
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
    if (this.ctx.hook !== null) {
      emit<'M4'>(this.ctx, nowMs(), { metadata_class: 'M4', operation: 'invalidate', cookie_match: false, snapshot_age_statements: statements - p.bornAt, cache_hit: false });
    }
  }

  private current(s: CommittedState): boolean {
    const now = this.m1.read(this.probe);
    return now.sequence_value === s.commit_seq && now.schema_cookie === s.schema_cookie;
  }
}
