// M6 — PagerInner committed state.
// legacy:         readers take the committed-state mutex at begin.
// snapshot:       writers publish an immutable snapshot with a generation into
//                 a ring; readers bind it with a refcount and no mutex, and a
//                 retired snapshot stays intact until its last reader lets go.
// shadow_compare: both; fields compared one by one; the legacy result is used.

import { faultOf, type ClassFaults, type DatabaseConfig } from '../config.ts';
import type { FieldDiff, ModeIndex, ShadowVerdict, ControlModeOf } from '../fields.ts';
import { epochNs, nowMs } from '../shared/clock.ts';
import { CTL, M6, SNAP, ringSize, type SharedDatabase } from '../shared/layout.ts';
import { lock, unlock } from '../shared/mutex.ts';
import type { PageStore } from '../store/page-store.ts';
import { injectDelay, type ClassContext } from './context.ts';

export interface CommittedState {
  commit_seq: number;
  db_size: number;
  freelist_count: number;
  schema_cookie: number;
  schema_generation: number;
  /** The snapshot generation: one per publish. */
  generation: number;
}

export const emptyState = (): CommittedState => ({
  commit_seq: 0, db_size: 0, freelist_count: 0, schema_cookie: 0, schema_generation: 0, generation: 0,
});

const MODE_NAMES = ['legacy', 'shadow_compare', 'snapshot'] as const satisfies readonly ControlModeOf<'M6'>[];
const COMPARED: readonly (keyof CommittedState)[] = ['commit_seq', 'db_size', 'freelist_count', 'schema_cookie', 'schema_generation'];
const CARD_NAME: Partial<Record<keyof CommittedState, string>> = { commit_seq: 'visible_commit_seq' };

export class M6CommittedState {
  private readonly w: Int32Array;
  private readonly ctl: Int32Array;
  private readonly ring: number;
  private readonly faults: ClassFaults;
  /** The ring slot this connection holds, or -1. */
  private held = -1;
  /** Fields the shadow comparison ignores (the card's allowed differences). */
  private readonly allowed: ReadonlySet<string>;

  constructor(shared: SharedDatabase, private readonly ctx: ClassContext, private readonly pages: PageStore, config: DatabaseConfig) {
    this.w = new Int32Array(shared.m6);
    this.ctl = new Int32Array(shared.ctl);
    this.ring = ringSize(config);
    this.faults = faultOf(config, 'M6');
    this.allowed = new Set(config.shadowAllowedDifferences.M6 ?? []);
  }

  mode(): ModeIndex {
    return Atomics.load(this.ctl, CTL.MODE_M6) as ModeIndex;
  }

  /**
   * Binds the committed state a transaction will read, and publishes the
   * connection's read horizon for it (so page versions it needs survive).
   */
  bind(slot: number, out: CommittedState): void {
    const mode = this.mode();
    const t0 = this.ctx.hook === null ? 0 : nowMs();
    injectDelay(this.ctx, 'M6');
    let verdict: ShadowVerdict = 'none';
    let diffs: FieldDiff[] | undefined;
    if (mode === 1 && this.ctx.shadowSampled) {
      // Shadow: both reads under the mutex, so no publish can fall between them.
      lock(this.w, M6.MUTEX);
      this.readInner(out);
      const candidate = emptyState();
      const s = this.acquireCurrent();
      this.readSlot(s, candidate);
      this.releaseSlot(s);
      this.pages.setHorizon(slot, out.commit_seq);
      unlock(this.w, M6.MUTEX);
      diffs = diffStates(out, candidate, this.allowed);
      verdict = diffs.length === 0 ? 'match' : 'diverged';
    } else if (mode !== 2) {
      // legacy, or shadow_compare outside its sampled fraction: the oracle path alone.
      lock(this.w, M6.MUTEX);
      this.readInner(out);
      this.pages.setHorizon(slot, out.commit_seq);
      unlock(this.w, M6.MUTEX);
    } else {
      this.bindSnapshot(slot, out);
    }
    if (this.ctx.hook !== null) {
      const t1 = nowMs();
      this.ctx.hook({
        metadata_class: 'M6', trace_id: this.ctx.traceId, start_ns: epochNs(t0), end_ns: epochNs(t1),
        operation: verdict === 'none' ? 'read' : 'shadow_compare',
        snapshot_generation: out.generation, visible_commit_seq: out.commit_seq, db_size: out.db_size,
        freelist_count: out.freelist_count, alloc_ns: 0,
        snapshot_age_commits: Math.max(0, Atomics.load(this.w, M6.COMMIT_SEQ) - out.commit_seq),
        control_mode: MODE_NAMES[mode], shadow_verdict: verdict,
        ...(diffs !== undefined && diffs.length > 0 ? { diverged_fields: diffs } : {}),
      });
    }
  }

  private bindSnapshot(slot: number, out: CommittedState): void {
    for (;;) {
      const s = this.acquireCurrent();
      this.readSlot(s, out);
      this.pages.setHorizon(slot, out.commit_seq);
      // A publish between reading the slot and announcing the horizon could
      // let a writer recycle versions this snapshot needs: bind again.
      if (Atomics.load(this.w, M6.RING_CURRENT) === s) {
        this.held = s;
        return;
      }
      this.releaseSlot(s);
    }
  }

  /** Ends the transaction's hold on its snapshot (legacy binds hold nothing). */
  release(): void {
    if (this.held >= 0) {
      this.releaseSlot(this.held);
      this.held = -1;
    }
  }

  /** Increments the refcount of the current ring slot, retrying across publishes. */
  private acquireCurrent(): number {
    for (;;) {
      const s = Atomics.load(this.w, M6.RING_CURRENT);
      const rc = M6.RING + s * M6.RING_STRIDE + SNAP.REFCOUNT;
      const n = Atomics.load(this.w, rc);
      if (n >= 0 && Atomics.compareExchange(this.w, rc, n, n + 1) === n) {
        if (Atomics.load(this.w, M6.RING_CURRENT) === s) return s;
        Atomics.sub(this.w, rc, 1);
      }
    }
  }

  private releaseSlot(s: number): void {
    Atomics.sub(this.w, M6.RING + s * M6.RING_STRIDE + SNAP.REFCOUNT, 1);
  }

  private readSlot(s: number, out: CommittedState): void {
    const b = M6.RING + s * M6.RING_STRIDE;
    out.generation = Atomics.load(this.w, b + SNAP.GENERATION);
    out.commit_seq = Atomics.load(this.w, b + SNAP.VISIBLE_COMMIT_SEQ);
    out.db_size = Atomics.load(this.w, b + SNAP.DB_SIZE);
    out.freelist_count = Atomics.load(this.w, b + SNAP.FREELIST_COUNT);
    out.schema_cookie = Atomics.load(this.w, b + SNAP.SCHEMA_COOKIE);
    out.schema_generation = Atomics.load(this.w, b + SNAP.SCHEMA_GENERATION);
  }

  private readInner(out: CommittedState): void {
    Object.assign(out, emptyStateFromWords(this.w));
  }

  /** The authoritative state; exact only for the holder of the writer lock. */
  committed(): CommittedState {
    return emptyStateFromWords(this.w);
  }

  /** The authoritative commit sequence, without the mutex (writers hold the writer lock). */
  committedSeq(): number {
    return Atomics.load(this.w, M6.COMMIT_SEQ);
  }

  /**
   * The oldest commit sequence a new transaction may still bind: the
   * authoritative one, or the published snapshot's when snapshots are being
   * published (it may trail, e.g. under the stale-publish fault).
   */
  bindableFloor(committedSeq: number): number {
    if (this.mode() === 0 && Atomics.load(this.ctl, CTL.M6_DIAGNOSTICS) === 0) return committedSeq;
    const s = Atomics.load(this.w, M6.RING_CURRENT);
    return Math.min(committedSeq, Atomics.load(this.w, M6.RING + s * M6.RING_STRIDE + SNAP.VISIBLE_COMMIT_SEQ));
  }

  /**
   * The commit's finalize step, called with the writer lock held: updates the
   * inner state under the mutex and publishes the snapshot built while the
   * mutex is still held, as the card's countermeasure demands.
   */
  commit(next: Omit<CommittedState, 'generation'>): void {
    const t0 = this.ctx.hook === null ? 0 : nowMs();
    injectDelay(this.ctx, 'M6');
    lock(this.w, M6.MUTEX);
    const prev = emptyState();
    this.readInner(prev);
    const generation = prev.generation + 1;
    this.w[M6.COMMIT_SEQ] = next.commit_seq;
    this.w[M6.DB_SIZE] = next.db_size;
    this.w[M6.FREELIST_COUNT] = next.freelist_count;
    this.w[M6.SCHEMA_COOKIE] = next.schema_cookie;
    this.w[M6.SCHEMA_GENERATION] = next.schema_generation;
    Atomics.store(this.w, M6.GENERATION, generation);
    const mode = this.mode();
    let allocMs = 0;
    let published: CommittedState | null = null;
    if (mode !== 0 || Atomics.load(this.ctl, CTL.M6_DIAGNOSTICS) === 1) {
      const stale = this.faults.stale_publish !== undefined && this.ctx.rng.chance(this.faults.stale_publish);
      published = stale ? { ...prev, generation } : { ...next, generation };
      const a0 = nowMs();
      this.publishLocked(published, next.commit_seq);
      allocMs = nowMs() - a0;
    }
    unlock(this.w, M6.MUTEX);
    if (this.ctx.hook !== null) {
      const t1 = nowMs();
      const shown = published ?? { ...next, generation };
      this.ctx.hook({
        metadata_class: 'M6', trace_id: this.ctx.traceId, start_ns: epochNs(t0), end_ns: epochNs(t1),
        operation: 'publish', snapshot_generation: generation, visible_commit_seq: shown.commit_seq,
        db_size: shown.db_size, freelist_count: shown.freelist_count, alloc_ns: Math.round(allocMs * 1e6),
        snapshot_age_commits: next.commit_seq - shown.commit_seq,
        control_mode: MODE_NAMES[mode], shadow_verdict: 'none',
      });
    }
  }

  private publishLocked(state: CommittedState, authoritativeSeq: number): void {
    publishSlot(this.w, this.ring, state, authoritativeSeq);
  }

  /** Holds the committed-state mutex across `fn` (mode changes, tests). */
  withMutex<T>(fn: () => T): T {
    lock(this.w, M6.MUTEX);
    try {
      return fn();
    } finally {
      unlock(this.w, M6.MUTEX);
    }
  }

  /** Reads the slot a snapshot-mode reader currently holds (tests of retirement). */
  heldSnapshot(): CommittedState | null {
    if (this.held < 0) return null;
    const out = emptyState();
    this.readSlot(this.held, out);
    return out;
  }
}

/** Writes the initial state into a fresh shared region (recovery result), unpublished readers none. */
/** Writes the recovered state into a fresh shared region, published in ring slot 0. */
export function initCommittedState(shared: SharedDatabase, state: CommittedState): void {
  const w = new Int32Array(shared.m6);
  w[M6.COMMIT_SEQ] = state.commit_seq;
  w[M6.DB_SIZE] = state.db_size;
  w[M6.FREELIST_COUNT] = state.freelist_count;
  w[M6.SCHEMA_COOKIE] = state.schema_cookie;
  w[M6.SCHEMA_GENERATION] = state.schema_generation;
  w[M6.GENERATION] = state.generation;
  writeSlot(w, M6.RING, state, state.commit_seq);
  w[M6.RING_CURRENT] = 0;
}

function diffStates(oracle: CommittedState, candidate: CommittedState, allowed: ReadonlySet<string>): FieldDiff[] {
  const out: FieldDiff[] = [];
  for (const k of COMPARED) {
    if (allowed.has(CARD_NAME[k] ?? k)) continue;
    if (oracle[k] !== candidate[k]) out.push({ field: CARD_NAME[k] ?? k, oracle: oracle[k], candidate: candidate[k] });
  }
  return out;
}

/**
 * Changes M6's control mode from any thread. Runs under the committed-state
 * mutex: turning snapshots on republishes the authoritative state first, so
 * no reader binds a snapshot older than the last legacy commit; falling back
 * to legacy keeps diagnostic snapshots flowing (the card's fallback action).
 */
export function switchM6Mode(shared: SharedDatabase, config: DatabaseConfig, mode: ModeIndex): void {
  const w = new Int32Array(shared.m6);
  const ctl = new Int32Array(shared.ctl);
  lock(w, M6.MUTEX);
  try {
    const old = Atomics.load(ctl, CTL.MODE_M6);
    const publishing = old !== 0 || Atomics.load(ctl, CTL.M6_DIAGNOSTICS) === 1;
    if (mode !== 0 && !publishing) {
      const cur = emptyStateFromWords(w);
      publishSlot(w, ringSize(config), cur, cur.commit_seq);
    }
    if (mode === 0 && old !== 0) Atomics.store(ctl, CTL.M6_DIAGNOSTICS, 1);
    Atomics.store(ctl, CTL.MODE_M6, mode);
  } finally {
    unlock(w, M6.MUTEX);
  }
}

function emptyStateFromWords(w: Int32Array): CommittedState {
  return {
    commit_seq: w[M6.COMMIT_SEQ]!, db_size: w[M6.DB_SIZE]!, freelist_count: w[M6.FREELIST_COUNT]!,
    schema_cookie: w[M6.SCHEMA_COOKIE]!, schema_generation: w[M6.SCHEMA_GENERATION]!, generation: w[M6.GENERATION]!,
  };
}

/**
 * Claims a free ring slot (refcount 0, not current), fills it and makes it
 * current. The committed-state mutex is held. Connections hold at most one
 * slot each and the ring has two spare, so a free slot always exists.
 */
function publishSlot(w: Int32Array, ring: number, state: CommittedState, authoritativeSeq: number): void {
  const current = Atomics.load(w, M6.RING_CURRENT);
  for (let i = 1; ; i++) {
    const s = (current + i) % ring;
    if (s === current) continue;
    const b = M6.RING + s * M6.RING_STRIDE;
    if (Atomics.compareExchange(w, b + SNAP.REFCOUNT, 0, -1) !== 0) continue;
    writeSlot(w, b, state, authoritativeSeq);
    Atomics.store(w, b + SNAP.REFCOUNT, 0);
    Atomics.store(w, M6.RING_CURRENT, s);
    return;
  }
}

function writeSlot(w: Int32Array, b: number, state: CommittedState, authoritativeSeq: number): void {
  w[b + SNAP.GENERATION] = state.generation;
  w[b + SNAP.VISIBLE_COMMIT_SEQ] = state.commit_seq;
  w[b + SNAP.DB_SIZE] = state.db_size;
  w[b + SNAP.FREELIST_COUNT] = state.freelist_count;
  w[b + SNAP.SCHEMA_COOKIE] = state.schema_cookie;
  w[b + SNAP.SCHEMA_GENERATION] = state.schema_generation;
  w[b + SNAP.PUBLISHED_AT_SEQ] = authoritativeSeq;
}
