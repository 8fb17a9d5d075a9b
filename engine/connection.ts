// A connection: one per thread, never shared. It owns its metadata-class
// state (M2–M5, M7–M10, M12 are connection-local by the cards' decision) and
// reaches the shared classes (M1, M6, M11, the page store and page locks)
// through the database's SharedArrayBuffers.

import { createHash } from 'node:crypto';
import type { DatabaseConfig } from './config.ts';
import { EngineError } from './errors.ts';
import type { RecordHook } from './fields.ts';
import { decodeRow } from './records/codec.ts';
import { RecordSink } from './records/sink.ts';
import { CTL, type SharedDatabase } from './shared/layout.ts';
import { lock, unlock } from './shared/mutex.ts';
import { spinDelay } from './shared/clock.ts';
import { Xorshift32 } from './shared/random.ts';
import { PageStore } from './store/page-store.ts';
import { FileStore } from './store/file-store.ts';
import { CommitPath, type WalHandle } from './commit-path.ts';
import { PageLockTable } from './page-locks.ts';
import { decodeSchema } from './schema.ts';
import { applyDdl, type Schema } from './sql/compile.ts';
import { parseStatement } from './sql/parse.ts';
import type { PageAccess } from './sql/vdbe.ts';
import { delaysOf, type ClassContext } from './classes/context.ts';
import { M1PublishedPagerState, emptySummary } from './classes/m1-published-pager-state.ts';
import { M2BoundPagerPublication } from './classes/m2-bound-pager-publication.ts';
import { M3SchemaTokens } from './classes/m3-schema-cookie.ts';
import { M4CachedReadSnapshot } from './classes/m4-cached-read-snapshot.ts';
import { M5CachedWriteTxn, type WriteKind } from './classes/m5-cached-write-txn.ts';
import { M6CommittedState, emptyState, type CommittedState } from './classes/m6-committed-state.ts';
import { M7WalFrameState } from './classes/m7-wal-frame-state.ts';
import { M8WalGeneration } from './classes/m8-wal-generation.ts';
import { M9MemdbGate, type PageBuffers } from './classes/m9-memdb-gate.ts';
import { M10CachedVdbe } from './classes/m10-cached-vdbe.ts';
import { M11SessionRegistry, type Session } from './classes/m11-session-registry.ts';
import { M12StatementCache } from './classes/m12-statement-cache.ts';

export type TxnKind = 'read' | WriteKind;

export interface ConnectionOptions {
  /**
   * Where field records go as numeric rows, without allocating (see
   * records/sink.ts); null (the default) costs next to nothing.
   */
  sink?: RecordSink | null;
  /** Convenience: receives every field record as an object, at once (tests, tools; not for hot paths). */
  hook?: RecordHook | null;
}

export interface PreparedStatement {
  readonly sql: string;
  run(params?: readonly number[]): number;
}

/** A page in a write set or the M9 cache, with a numeric view for column access. */
interface PageBuf {
  bytes: Uint8Array;
  f64: Float64Array;
}

interface Txn {
  kind: TxnKind;
  state: CommittedState;
  session: Session | null;
  writes: Map<number, PageBuf>;
  ddl: Schema | null;
  holdsWriterLock: boolean;
  /** M4: the statement count when a reused read snapshot was first bound. */
  bornAt: number | null;
}

export class Connection implements PageAccess {
  readonly slot: number;
  readonly config: DatabaseConfig;
  private readonly ctx: ClassContext;
  private readonly ctl: Int32Array;
  private readonly pages: PageStore;
  private readonly locks: PageLockTable;
  /** File backend: this handle's WAL files and its M7 and M8 state. */
  private readonly wal: WalHandle | null;
  private readonly m1: M1PublishedPagerState;
  private readonly m2: M2BoundPagerPublication;
  private readonly m3: M3SchemaTokens;
  private readonly m4: M4CachedReadSnapshot;
  private readonly m5: M5CachedWriteTxn;
  private readonly m6: M6CommittedState;
  private readonly m9: M9MemdbGate<PageBuf> | null;
  private readonly m10: M10CachedVdbe;
  private readonly m11: M11SessionRegistry;
  private readonly m12: M12StatementCache;
  private readonly commitPath: CommitPath;
  private txn: Txn | null = null;
  /**
   * Page buffers nobody holds, reused: allocating a 4 KiB ArrayBuffer per
   * written or cached page was most of a write's cost and, through the
   * collector, most of its variance. Transactions hand theirs back at the
   * end; the M9 cache owns copies.
   */
  private readonly pool: PageBuf[] = [];
  private readonly buffers: PageBuffers<PageBuf> = {
    take: () => this.pool.pop() ?? newPageBuf(this.config.pageSize),
    give: (page) => void this.pool.push(page),
    copy: (to, from) => to.bytes.set(from.bytes),
  };
  /** A page read that no cache keeps, used at once by its caller. */
  private scratch: PageBuf | null = null;
  /** The write set of the next transaction (one map per connection, emptied after each transaction). */
  private readonly writeSet = new Map<number, PageBuf>();
  /** The TXN delay fault: CPU work at the start of every transaction, a regression of known size. */
  private readonly txnDelayNs: number;
  private schemaCache: { generation: number; schema: Schema } | null = null;
  private closed = false;

  constructor(shared: SharedDatabase, options: ConnectionOptions = {}) {
    this.config = shared.config;
    this.ctl = new Int32Array(shared.ctl);
    this.slot = claimSlot(this.ctl, this.config.maxConnections);
    this.ctx = {
      sink: sinkOf(options),
      slot: this.slot,
      delayNs: delaysOf(this.config),
      shadowSampled: true,
      rng: new Xorshift32(this.config.seed * 7919 + this.slot * 104729 + 1),
    };
    this.txnDelayNs = this.config.faults.TXN?.delay_ns ?? 0;
    this.pages = new PageStore(shared);
    this.locks = new PageLockTable(shared);
    const isMemory = this.config.backend === 'memory';
    this.m1 = new M1PublishedPagerState(shared, this.ctx, this.config);
    this.m2 = new M2BoundPagerPublication(this.ctx, this.m1, isMemory);
    this.m3 = new M3SchemaTokens(this.ctx);
    this.m4 = new M4CachedReadSnapshot(this.ctx, this.m1, this.pages);
    this.m5 = new M5CachedWriteTxn(this.ctx, this.m1, this.pages, isMemory);
    this.m6 = new M6CommittedState(shared, this.ctx, this.pages, this.config);
    if (isMemory) this.wal = null;
    else {
      const file = new FileStore(shared, this.config);
      this.wal = { file, m7: new M7WalFrameState(this.ctx, file), m8: new M8WalGeneration(this.ctx, file) };
    }
    this.m9 = isMemory ? new M9MemdbGate<PageBuf>(this.ctx, this.buffers) : null;
    this.m10 = new M10CachedVdbe(this.ctx);
    this.m11 = new M11SessionRegistry(shared, this.ctx, this.config);
    this.m12 = new M12StatementCache(this.ctx);
    this.commitPath = new CommitPath(this.config, this.pages, this.m1, this.m6, this.m11, this.wal);
  }

  get inTransaction(): boolean {
    return this.txn !== null;
  }

  /** The bound committed state of the open transaction. */
  get snapshot(): Readonly<CommittedState> {
    return this.need().state;
  }

  begin(kind: TxnKind = 'read'): void {
    this.open();
    if (this.txn !== null) throw new EngineError('misuse', 'begin: a transaction is already open', {});
    if (this.txnDelayNs > 0) spinDelay(this.txnDelayNs);
    // One draw keys the transaction: the first 32 bits of its trace_id, and
    // whether a shadow_compare comparison samples it.
    const rng = this.ctx.rng;
    const key = rng.nextU32();
    this.ctx.shadowSampled = key < this.config.shadowSampleRatio * 4294967296;
    this.ctx.sink?.beginTransaction(key, rng.nextU32(), rng.nextU32(), rng.nextU32());
    const state = emptyState();
    const txn: Txn = { kind, state, session: null, writes: this.writeSet, ddl: null, holdsWriterLock: false, bornAt: null };
    try {
      if (kind === 'read') {
        txn.bornAt = this.m4.tryReuse(this.slot, this.m2.statementCount, state);
        if (txn.bornAt === null) this.m6.bind(this.slot, state);
      } else {
        this.m4.invalidate(this.m2.statementCount);
        if (kind === 'write') {
          this.acquireWriterLock();
          txn.holdsWriterLock = true;
        }
        txn.session = this.m5.tryReuse(kind, this.slot, state);
        if (txn.session === null) {
          const stale = this.m5.take();
          if (stale !== null) this.m11.end(stale, 'commit');
          this.m6.bind(this.slot, state);
          txn.session = this.m11.begin(this.m11.nextSessionId(), this.slot, state.commit_seq);
        }
      }
      if (this.wal !== null) this.wal.m7.refresh(this.wal.m8.compare());
    } catch (err) {
      // A failed begin leaves nothing open: no session, lock, snapshot or horizon.
      if (txn.session !== null) this.m11.end(txn.session, 'abort');
      this.releaseWriterLock(txn);
      this.m6.release();
      this.pages.clearHorizon(this.slot);
      throw err;
    }
    this.m9?.check(state.commit_seq, state.schema_cookie);
    this.txn = txn;
  }

  readPage(pgno: number, into: Uint8Array = new Uint8Array(this.config.pageSize)): Uint8Array {
    const txn = this.need();
    this.checkPage(pgno, true);
    const own = txn.writes.get(pgno);
    if (own !== undefined) into.set(own.bytes);
    else if (this.m9 !== null) into.set(this.cachedPage(pgno, txn.state.commit_seq).bytes);
    else this.pages.read(pgno, txn.state.commit_seq, into);
    return into;
  }

  writePage(pgno: number, data: Uint8Array): void {
    this.checkPage(pgno, false);
    this.writable(pgno).bytes.set(data.subarray(0, this.config.pageSize));
  }

  getNumber(pgno: number, offset: number): number {
    const txn = this.need();
    this.checkPage(pgno, true);
    const own = txn.writes.get(pgno);
    if (own !== undefined) return own.f64[offset >>> 3]!;
    if (this.m9 !== null) return this.cachedPage(pgno, txn.state.commit_seq).f64[offset >>> 3]!;
    const slot = this.pages.visibleSlot(pgno, txn.state.commit_seq);
    return slot < 0 ? 0 : this.pages.numberAt(slot, offset);
  }

  setNumber(pgno: number, offset: number, value: number): void {
    this.checkPage(pgno, false);
    this.writable(pgno).f64[offset >>> 3] = value;
  }

  /**
   * Runs one statement. Outside a transaction it autocommits: SELECT in a
   * read transaction, UPDATE in a write transaction.
   */
  exec(sql: string, params: readonly number[] = []): number {
    this.open();
    const auto = this.txn === null;
    if (auto) this.begin(/^\s*update/i.test(sql) ? 'write' : 'read');
    try {
      const txn = this.need();
      this.m2.bind();
      const { schema, cookie, generation } = this.schemaOf(txn);
      if (this.m3.check(cookie, generation)) this.m12.invalidate(cookie, generation);
      const program = this.m12.program(sql, schema, cookie, generation);
      if (program.op !== 'select' && program.op !== 'sum' && txn.kind === 'read') {
        throw new EngineError('misuse', 'UPDATE in a read transaction', { statement: sql });
      }
      const result = this.m10.acquire(generation).run(program, params, this);
      if (auto) this.commit();
      return result;
    } catch (err) {
      if (auto && this.txn !== null) this.rollback();
      throw err;
    }
  }

  /**
   * Prepares statement text: parsed now (through the M12 parse cache, so a
   * syntax error surfaces here) and compiled at first run under the schema of
   * the transaction it runs in.
   */
  prepare(sql: string): PreparedStatement {
    this.open();
    this.m12.parse(sql, this.m3.schema_cookie, this.m3.schema_generation);
    return { sql, run: (params: readonly number[] = []) => this.exec(sql, params) };
  }

  /** DDL: `ALTER ADD COLUMN x` / `ALTER DROP COLUMN x`. Bumps the schema cookie and generation at commit. */
  schemaChange(ddl: string): void {
    this.open();
    const auto = this.txn === null;
    if (auto) this.begin('write');
    try {
      const txn = this.need();
      if (txn.kind === 'read') throw new EngineError('misuse', 'schema change in a read transaction', {});
      const next = applyDdl(this.schemaOf(txn).schema, parseStatement(ddl), this.config.pageSize / 8);
      this.lockPage(txn, 0);
      txn.ddl = next;
      if (auto) this.commit();
    } catch (err) {
      if (auto && this.txn !== null) this.rollback();
      throw err;
    }
  }

  /** Commits; returns the new commit sequence (a read transaction returns the one it saw). */
  commit(): number {
    const txn = this.need();
    if (txn.kind === 'read') {
      this.endTxn(txn);
      this.m4.park(txn.state, this.m2.statementCount, txn.bornAt);
      return txn.state.commit_seq;
    }
    const session = txn.session!;
    if (txn.writes.size === 0 && txn.ddl === null) {
      this.releaseWriterLock(txn);
      this.endWrite(txn, session, txn.state);
      return txn.state.commit_seq;
    }
    let committed: CommittedState;
    try {
      if (!txn.holdsWriterLock) {
        this.acquireWriterLock();
        txn.holdsWriterLock = true;
      }
      committed = this.commitPath.commit({ snapshot: txn.state, session, writes: txn.writes, ddl: txn.ddl });
    } catch (err) {
      this.rollback();
      throw err;
    }
    try {
      if (this.commitPath.wantsCheckpoint()) this.commitPath.checkpoint();
    } finally {
      this.releaseWriterLock(txn);
    }
    this.endWrite(txn, session, committed);
    return committed.commit_seq;
  }

  rollback(): void {
    const txn = this.need();
    if (txn.session !== null) this.m11.end(txn.session, 'abort');
    if (txn.ddl !== null) this.forgetSchemaState();
    this.releaseWriterLock(txn);
    this.endTxn(txn);
  }

  /**
   * Copies the WAL back into the database file and starts a new WAL
   * generation (file backend). Returns the frames checkpointed; 0 in memory.
   */
  checkpoint(): number {
    this.open();
    if (this.wal === null) return 0;
    if (this.txn?.holdsWriterLock === true) throw new EngineError('misuse', 'checkpoint inside a write transaction', {});
    this.acquireWriterLock();
    try {
      return this.commitPath.checkpoint();
    } finally {
      unlock(this.ctl, CTL.WRITER_LOCK);
    }
  }

  /** Waits (M1) until a commit at or above `seq` is visible; false on timeout. */
  waitForCommit(seq: number, timeoutMs: number): boolean {
    this.open();
    return this.m1.waitFor(seq, timeoutMs).reached;
  }

  /** The published commit sequence (M1 read). */
  visibleCommitSeq(): number {
    this.open();
    return this.m1.read(emptySummary()).sequence_value;
  }

  /** SHA-256 over every page in use, at a fresh read snapshot: equal states hash equal. */
  stateHash(): string {
    const own = this.txn === null;
    if (own) this.begin('read');
    try {
      const txn = this.need();
      const h = createHash('sha256');
      const buf = new Uint8Array(this.config.pageSize);
      for (let p = 0; p < txn.state.db_size; p++) h.update(this.readPage(p, buf));
      return h.digest('hex');
    } finally {
      if (own) this.commit();
    }
  }

  close(): void {
    if (this.closed) return;
    if (this.txn !== null) this.rollback();
    const retained = this.m5.take();
    if (retained !== null) this.m11.end(retained, 'commit');
    this.wal?.file.close();
    this.pages.clearHorizon(this.slot);
    Atomics.store(this.ctl, CTL.SLOTS + this.slot, 0);
    this.closed = true;
  }

  // ---- internals ----

  private endWrite(txn: Txn, session: Session, committed: CommittedState): void {
    this.m9?.localCommit(txn.state.commit_seq, committed.commit_seq, committed.schema_cookie, txn.writes);
    this.endTxn(txn);
    // M5: a DDL invalidates the retained transaction; so does any non-memory backend (park refuses).
    if (txn.ddl !== null || !this.m5.park(txn.kind as WriteKind, session, committed)) this.m11.end(session, 'commit');
  }

  private endTxn(txn: Txn): void {
    for (const [pgno, page] of txn.writes) {
      this.locks.release(pgno, txn.session!.session_id);
      this.buffers.give(page);
    }
    txn.writes.clear();
    if (txn.ddl !== null) this.locks.release(0, txn.session!.session_id);
    this.m6.release();
    this.pages.clearHorizon(this.slot);
    this.txn = null;
  }

  private writable(pgno: number): PageBuf {
    const txn = this.need();
    if (txn.kind === 'read') throw new EngineError('misuse', `write to page ${pgno} in a read transaction`, { pgno });
    let page = txn.writes.get(pgno);
    if (page === undefined) {
      this.lockPage(txn, pgno);
      page = this.buffers.take();
      this.pages.read(pgno, txn.state.commit_seq, page.bytes);
      txn.writes.set(pgno, page);
    }
    return page;
  }

  private lockPage(txn: Txn, pgno: number): void {
    const sid = txn.session!.session_id;
    if (!this.locks.tryAcquire(pgno, sid)) {
      throw new EngineError('busy', `page ${pgno} is locked by session ${this.locks.holder(pgno)}`, { pgno, holder: this.locks.holder(pgno) });
    }
  }

  private cachedPage(pgno: number, seq: number): PageBuf {
    const hit = this.m9!.get(pgno, seq);
    if (hit !== undefined) return hit;
    if (!this.m9!.accepts(seq)) {
      const page = (this.scratch ??= newPageBuf(this.config.pageSize));
      this.pages.read(pgno, seq, page.bytes);
      return page;
    }
    const page = this.buffers.take();
    this.pages.read(pgno, seq, page.bytes);
    this.m9!.put(pgno, seq, page);
    return page;
  }

  private schemaOf(txn: Txn): { schema: Schema; cookie: number; generation: number } {
    if (txn.ddl !== null) {
      // An uncommitted DDL: its programs are compiled under a generation no
      // committed schema has yet; rollback forgets them (forgetSchemaState).
      return { schema: txn.ddl, cookie: txn.state.schema_cookie + 1, generation: txn.state.schema_generation + 1 };
    }
    const generation = txn.state.schema_generation;
    if (this.schemaCache === null || this.schemaCache.generation !== generation) {
      const page = new Uint8Array(this.config.pageSize);
      this.pages.read(0, txn.state.commit_seq, page);
      this.schemaCache = { generation, schema: decodeSchema(page) };
    }
    return { schema: this.schemaCache.schema, cookie: txn.state.schema_cookie, generation };
  }

  private forgetSchemaState(): void {
    this.schemaCache = null;
    this.m3.schema_cookie = -1;
    this.m3.schema_generation = -1;
    this.m12.invalidate(-1, -1);
  }

  private acquireWriterLock(): void {
    if (!lock(this.ctl, CTL.WRITER_LOCK, this.config.busyTimeoutMs)) {
      throw new EngineError('busy', `writer lock not acquired within busyTimeoutMs=${this.config.busyTimeoutMs}`, {});
    }
  }

  private releaseWriterLock(txn: Txn): void {
    if (txn.holdsWriterLock) {
      txn.holdsWriterLock = false;
      unlock(this.ctl, CTL.WRITER_LOCK);
    }
  }

  private checkPage(pgno: number, allowSchemaPage: boolean): void {
    const lo = allowSchemaPage ? 0 : 1;
    if (!Number.isInteger(pgno) || pgno < lo || pgno >= this.config.pageCount) {
      throw new EngineError('misuse', `page ${pgno} out of range [${lo}, ${this.config.pageCount})`, { pgno });
    }
  }

  private need(): Txn {
    if (this.txn === null) throw new EngineError('misuse', 'no open transaction', {});
    return this.txn;
  }

  private open(): void {
    if (this.closed) throw new EngineError('misuse', 'connection is closed', {});
  }
}

function sinkOf(o: ConnectionOptions): RecordSink | null {
  if (o.sink != null && o.hook != null) throw new EngineError('config', 'connect: give a record sink or a hook, not both', {});
  const hook = o.hook;
  if (hook == null) return o.sink ?? null;
  // One row at a time, decoded at once: every record reaches the hook as the engine writes it.
  return new RecordSink({
    capacity: 1,
    sampleRatio: 1,
    onFull: (sink) => {
      const record = decodeRow(sink, 0);
      sink.consumed();
      hook(record);
    },
  });
}

function newPageBuf(pageSize: number): PageBuf {
  const buf = new ArrayBuffer(pageSize);
  return { bytes: new Uint8Array(buf), f64: new Float64Array(buf) };
}

function claimSlot(ctl: Int32Array, max: number): number {
  for (let i = 0; i < max; i++) if (Atomics.compareExchange(ctl, CTL.SLOTS + i, 0, 1) === 0) return i;
  throw new EngineError('busy', `no free connection slot (maxConnections=${max})`, {});
}
