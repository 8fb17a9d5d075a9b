// M6 — PagerInner committed state.
// legacy:         readers take the committed-state mutex at begin.
// snapshot:       writers publish an immutable snapshot with a generation into
//                 a ring; readers bind it with a refcount and no mutex, and a
//                 retired snapshot stays intact until its last reader lets go.
// shadow_compare: both; fields compared one by one; the legacy result is used.

import { faultOf, type ClassFaults, type DatabaseConfig } from '../config.ts';
import { MODE_INDEX, type FieldDiff, type ModeIndex } from '../fields.ts';
import { CLASS_INDEX, COL, VERDICT, kindOf } from '../records/columns.ts';
import type { RecordSink } from '../records/sink.ts';
import { nowMs } from '../shared/clock.ts';
import { CTL, M6, SNAP, ringSize, type SharedDatabase } from '../shared/layout.ts';
import { lock, unlock } from '../shared/mutex.ts';
import type { PageStore } from '../store/page-store.ts';
import { injectDelay, type ClassContext } from './context.ts';

// Mode indexes as plain constants: read on every operation.
const { legacy: MODE_LEGACY, shadow_compare: MODE_SHADOW, new: MODE_NEW } = MODE_INDEX;

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
  commit_seq: 0,
  db_size: 0,
  freelist_count: 0,
  schema_cookie: 0,
  schema_generation: 0,
  generation: 0,
});

const CI = CLASS_INDEX.M6;
const C = COL.M6;
const PUBLISH = kindOf('M6', 'publish');
const READ = kindOf('M6', 'read');
const SHADOW_COMPARE = kindOf('M6', 'shadow_compare');
const { none: NONE, match: MATCH, diverged: DIVERGED } = VERDICT;
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

  constructor(
    shared: SharedDatabase,
    private readonly ctx: ClassContext,
    private readonly pages: PageStore,
    config: DatabaseConfig,
  ) {
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
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start(CI);
    injectDelay(this.ctx, 'M6');
    let verdict: number = NONE;
    let diffs: FieldDiff[] | null = null;
    if (mode === MODE_SHADOW && this.ctx.shadowSampled) {
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
      verdict = diffs.length === 0 ? MATCH : DIVERGED;
    } else if (mode !== MODE_NEW) {
      // legacy, or shadow_compare outside its sampled fraction: the oracle path alone.
      lock(this.w, M6.MUTEX);
      this.readInner(out);
      this.pages.setHorizon(slot, out.commit_seq);
      unlock(this.w, M6.MUTEX);
    } else {
      this.bindSnapshot(slot, out);
    }
    if (sink !== null) {
      const o = row(
        sink,
        verdict === NONE ? READ : SHADOW_COMPARE,
        t0,
        out.generation,
        out,
        0,
        Math.max(0, Atomics.load(this.w, M6.COMMIT_SEQ) - out.commit_seq),
        mode,
        verdict,
      );
      if (diffs !== null && diffs.length > 0) sink.attach(o, diffs);
      sink.done();
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
    const w = this.w;
    out.commit_seq = w[M6.COMMIT_SEQ]!;
    out.db_size = w[M6.DB_SIZE]!;
    out.freelist_count = w[M6.FREELIST_COUNT]!;
    out.schema_cookie = w[M6.SCHEMA_COOKIE]!;
    out.schema_generation = w[M6.SCHEMA_GENERATION]!;
    out.generation = w[M6.GENERATION]!;
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
    if (this.mode() === MODE_LEGACY && Atomics.load(this.ctl, CTL.M6_DIAGNOSTICS) === 0) return committedSeq;
    const s = Atomics.load(this.w, M6.RING_CURRENT);
    return Math.min(committedSeq, Atomics.load(this.w, M6.RING + s * M6.RING_STRIDE + SNAP.VISIBLE_COMMIT_SEQ));
  }

  /**
   * The commit's finalize step, called with the writer lock held: updates the
   * inner state under the mutex and publishes the snapshot built while the
   * mutex is still held, as the card's countermeasure demands.
   */
  commit(next: Omit<CommittedState, 'generation'>): void {
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start(CI);
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
    if (mode !== MODE_LEGACY || Atomics.load(this.ctl, CTL.M6_DIAGNOSTICS) === 1) {
      const stale = this.faults.stale_publish !== undefined && this.ctx.rng.chance(this.faults.stale_publish);
      published = stale ? { ...prev, generation } : { ...next, generation };
      const a0 = nowMs();
      this.publishLocked(published, next.commit_seq);
      allocMs = nowMs() - a0;
    }
    unlock(this.w, M6.MUTEX);
    if (sink !== null) {
      const shown = published ?? next;
      row(sink, PUBLISH, t0, generation, shown, Math.round(allocMs * 1e6), next.commit_seq - shown.commit_seq, mode, NONE);
      sink.done();
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

/** Fills an M6 row (the caller attaches diffs, then calls done). */
function row(
  sink: RecordSink,
  kind: number,
  t0: number,
  generation: number,
  s: Omit<CommittedState, 'generation'>,
  allocNs: number,
  ageCommits: number,
  mode: number,
  verdict: number,
): number {
  const o = sink.open(kind, t0);
  const r = sink.rows;
  r[o + C.snapshot_generation] = generation;
  r[o + C.visible_commit_seq] = s.commit_seq;
  r[o + C.db_size] = s.db_size;
  r[o + C.freelist_count] = s.freelist_count;
  r[o + C.alloc_ns] = allocNs;
  r[o + C.snapshot_age_commits] = ageCommits;
  r[o + C.control_mode] = mode;
  r[o + C.shadow_verdict] = verdict;
  return o;
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
    if (mode !== MODE_LEGACY && !publishing) {
      const cur = emptyStateFromWords(w);
      publishSlot(w, ringSize(config), cur, cur.commit_seq);
    }
    if (mode === MODE_LEGACY && old !== 0) Atomics.store(ctl, CTL.M6_DIAGNOSTICS, 1);
    Atomics.store(ctl, CTL.MODE_M6, mode);
  } finally {
    unlock(w, M6.MUTEX);
  }
}

function emptyStateFromWords(w: Int32Array): CommittedState {
  return {
    commit_seq: w[M6.COMMIT_SEQ]!,
    db_size: w[M6.DB_SIZE]!,
    freelist_count: w[M6.FREELIST_COUNT]!,
    schema_cookie: w[M6.SCHEMA_COOKIE]!,
    schema_generation: w[M6.SCHEMA_GENERATION]!,
    generation: w[M6.GENERATION]!,
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
