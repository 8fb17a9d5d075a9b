// M11 — concurrent session registry. The page-lock table beside it keeps its
// CAS fast path unchanged in every mode (see page-locks.ts).
// legacy:         one global table behind one mutex.
// sharded:        a deterministic shard per session_id, each with its own mutex.
// shadow_compare: both; every routed session must be found on its expected
//                 shard; the global table's answer is the one used.

import { faultOf, type ClassFaults, type DatabaseConfig } from '../config.ts';
import { MODE_INDEX, type ModeIndex } from '../fields.ts';
import { COL, VERDICT, kindOf } from '../records/columns.ts';
import { nowMs } from '../shared/clock.ts';
import { CTL, REG, registryTableWords, type SharedDatabase } from '../shared/layout.ts';
import { lock, tryLock, unlock } from '../shared/mutex.ts';
import { hash32 } from '../shared/random.ts';
import { injectDelay, type ClassContext } from './context.ts';

// Mode indexes as plain constants: read on every operation.
const { legacy: MODE_LEGACY, shadow_compare: MODE_SHADOW, new: MODE_NEW } = MODE_INDEX;

const C = COL.M11;
const BEGIN = kindOf('M11', 'begin');
const COMMIT = kindOf('M11', 'commit');
const ABORT = kindOf('M11', 'abort');
const LOOKUP = kindOf('M11', 'lookup');
const { none: NONE, match: MATCH, diverged: DIVERGED } = VERDICT;

/** A registered session, as its connection remembers it. */
export interface Session {
  session_id: number;
  /** The mode the session began in; it ends in the same structure. */
  mode: ModeIndex;
  /** The shard the deterministic mapping names (1-based table index). */
  expectedTable: number;
  /** Where it was actually inserted (differs only under the misroute fault). */
  actualTable: number;
}

/** Deterministic shard (0-based) of a session id. */
export function shardOf(sessionId: number, shards: number): number {
  return hash32(sessionId) % shards;
}

export class M11SessionRegistry {
  private readonly w: Int32Array;
  private readonly ctl: Int32Array;
  private readonly stride: number;
  private readonly capacity: number;
  private readonly shards: number;
  private readonly faults: ClassFaults;

  constructor(
    shared: SharedDatabase,
    private readonly ctx: ClassContext,
    config: DatabaseConfig,
  ) {
    this.w = new Int32Array(shared.registry);
    this.ctl = new Int32Array(shared.ctl);
    this.stride = registryTableWords(config);
    this.capacity = config.maxConnections;
    this.shards = config.registryShards;
    this.faults = faultOf(config, 'M11');
  }

  mode(): ModeIndex {
    return Atomics.load(this.ctl, CTL.MODE_M11) as ModeIndex;
  }

  /** A session id unique across the database. */
  nextSessionId(): number {
    return Atomics.add(this.ctl, CTL.SESSION_SEQ, 1) + 1;
  }

  begin(sessionId: number, slot: number, snapshotSeq: number): Session {
    const mode = this.mode();
    const expectedTable = 1 + shardOf(sessionId, this.shards);
    let actualTable = expectedTable;
    if (mode !== MODE_LEGACY && this.faults.misroute !== undefined && this.shards > 1 && this.ctx.rng.chance(this.faults.misroute)) {
      actualTable = 1 + ((expectedTable - 1 + 1 + (this.ctx.rng.nextU32() % (this.shards - 1))) % this.shards);
    }
    const session: Session = { session_id: sessionId, mode, expectedTable, actualTable };
    const t0 = this.startOp();
    let waitMs = 0;
    let active = 0;
    if (mode !== MODE_NEW) ({ waitMs, active } = this.insert(0, sessionId, slot, snapshotSeq));
    if (mode !== MODE_LEGACY) {
      const r = this.insert(actualTable, sessionId, slot, snapshotSeq);
      waitMs += r.waitMs;
      active = r.active;
    }
    this.emit(BEGIN, t0, session, waitMs, active, NONE, false);
    return session;
  }

  /**
   * Looks the session up where its mode says it lives. Returns false when it
   * is missing: the card's `session_not_found`.
   */
  lookup(session: Session): boolean {
    const t0 = this.startOp();
    let verdict: number = NONE;
    let found: boolean;
    let notFound: boolean;
    // shadow_compare outside its sampled fraction asks the global table (the oracle) alone.
    const compared = session.mode === MODE_SHADOW && this.ctx.shadowSampled;
    const routed = this.find(session.mode === MODE_LEGACY || (session.mode === MODE_SHADOW && !compared) ? 0 : session.expectedTable, session.session_id);
    let waitMs = routed.waitMs;
    notFound = !routed.found;
    found = routed.found;
    if (compared) {
      const legacy = this.find(0, session.session_id);
      waitMs += legacy.waitMs;
      verdict = legacy.found === routed.found ? MATCH : DIVERGED;
      found = legacy.found;
    }
    this.emit(LOOKUP, t0, session, waitMs, routed.active, verdict, notFound);
    return found;
  }

  /** Removes the session at commit or abort. Never loses it: a misrouted session is swept from every shard. */
  end(session: Session, op: 'commit' | 'abort'): void {
    const t0 = this.startOp();
    let waitMs = 0;
    let active = 0;
    let missing = false;
    if (session.mode !== MODE_NEW) ({ waitMs, active } = this.remove(0, session.session_id));
    if (session.mode !== MODE_LEGACY) {
      const r = this.remove(session.expectedTable, session.session_id);
      waitMs += r.waitMs;
      active = r.active;
      if (!r.found) {
        missing = true;
        for (let t = 1; t <= this.shards; t++) if (t !== session.expectedTable && this.remove(t, session.session_id).found) break;
      }
    }
    this.emit(op === 'commit' ? COMMIT : ABORT, t0, session, waitMs, active, NONE, missing);
  }

  /** Sessions currently registered in a table (0 = global, 1.. = shards). */
  activeIn(table: number): number {
    return Atomics.load(this.w, REG.TABLES + table * this.stride + REG.COUNT);
  }

  /** Every session id present in a table (tests). */
  sessionsIn(table: number): number[] {
    const base = REG.TABLES + table * this.stride;
    const ids: number[] = [];
    lock(this.w, base + REG.MUTEX);
    for (let i = 0; i < this.capacity; i++) {
      const id = this.w[base + REG.HEADER + i * REG.ENTRY + REG.SESSION_ID]!;
      if (id !== 0) ids.push(id);
    }
    unlock(this.w, base + REG.MUTEX);
    return ids;
  }

  private startOp(): number {
    const sink = this.ctx.sink;
    const t0 = sink === null ? 0 : sink.start();
    injectDelay(this.ctx, 'M11');
    return t0;
  }

  /**
   * Locks a table; returns the ms waited. A lock taken at the first attempt
   * waited nothing, and reads no clock: only contention is timed.
   */
  private lockTable(base: number): number {
    if (tryLock(this.w, base + REG.MUTEX)) return 0;
    if (this.ctx.sink === null) {
      lock(this.w, base + REG.MUTEX);
      return 0;
    }
    const t = nowMs();
    lock(this.w, base + REG.MUTEX);
    return nowMs() - t;
  }

  private insert(table: number, sessionId: number, slot: number, snapshotSeq: number): { waitMs: number; active: number } {
    const base = REG.TABLES + table * this.stride;
    const waitMs = this.lockTable(base);
    for (let i = 0; i < this.capacity; i++) {
      const e = base + REG.HEADER + i * REG.ENTRY;
      if (this.w[e + REG.SESSION_ID] === 0) {
        this.w[e + REG.SESSION_ID] = sessionId;
        this.w[e + REG.SLOT] = slot;
        this.w[e + REG.SNAPSHOT_SEQ] = snapshotSeq;
        break;
      }
    }
    const active = Atomics.add(this.w, base + REG.COUNT, 1) + 1;
    unlock(this.w, base + REG.MUTEX);
    return { waitMs, active };
  }

  private find(table: number, sessionId: number): { waitMs: number; active: number; found: boolean } {
    const base = REG.TABLES + table * this.stride;
    const waitMs = this.lockTable(base);
    let found = false;
    for (let i = 0; i < this.capacity && !found; i++) found = this.w[base + REG.HEADER + i * REG.ENTRY + REG.SESSION_ID] === sessionId;
    const active = this.w[base + REG.COUNT]!;
    unlock(this.w, base + REG.MUTEX);
    return { waitMs, active, found };
  }

  private remove(table: number, sessionId: number): { waitMs: number; active: number; found: boolean } {
    const base = REG.TABLES + table * this.stride;
    const waitMs = this.lockTable(base);
    let found = false;
    for (let i = 0; i < this.capacity; i++) {
      const e = base + REG.HEADER + i * REG.ENTRY;
      if (this.w[e + REG.SESSION_ID] === sessionId) {
        this.w[e + REG.SESSION_ID] = 0;
        found = true;
        break;
      }
    }
    const active = found ? Atomics.sub(this.w, base + REG.COUNT, 1) - 1 : this.w[base + REG.COUNT]!;
    unlock(this.w, base + REG.MUTEX);
    return { waitMs, active, found };
  }

  private emit(kind: number, t0: number, s: Session, waitMs: number, active: number, verdict: number, notFound: boolean): void {
    const sink = this.ctx.sink;
    if (sink === null) return;
    const o = sink.open(kind, t0);
    const r = sink.rows;
    r[o + C.session_id] = s.session_id;
    r[o + C.shard_id] = s.mode === MODE_LEGACY ? 0 : s.expectedTable - 1;
    r[o + C.lock_wait_ns] = Math.round(waitMs * 1e6);
    r[o + C.active_sessions_in_shard] = active;
    r[o + C.control_mode] = s.mode;
    r[o + C.shadow_verdict] = verdict;
    r[o + C.session_not_found] = notFound ? 1 : 0;
    sink.done();
  }
}
