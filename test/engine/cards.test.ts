// The "Required verification: Unit" lines of the decision cards M6, M1 and
// M11, as tests. Concurrency runs in real worker threads (cards.worker.ts)
// sharing the database's SharedArrayBuffers; coordination goes through a
// separate SharedArrayBuffer of flags (cards.shared.ts).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  openDatabase,
  shardOf,
  EngineError,
  type Connection,
  type Database,
  type DatabaseOptions,
  type FieldRecord,
  type M6Record,
  type M11Record,
  type ModeIndex,
} from '../../engine/index.ts';
import { M6, SNAP, ringSize } from '../../engine/shared/layout.ts';
import { tryLock, unlock } from '../../engine/shared/mutex.ts';
import { PageLockTable } from '../../engine/page-locks.ts';
import { M11SessionRegistry } from '../../engine/classes/m11-session-registry.ts';
import { M1PublishedPagerState, emptySummary, type PagerSummary } from '../../engine/classes/m1-published-pager-state.ts';
import { delaysOf, type ClassContext } from '../../engine/classes/context.ts';
import type { CommittedState } from '../../engine/classes/m6-committed-state.ts';
import { Xorshift32 } from '../../engine/index.ts';
import { runWorkers, type WorkerRun } from '../support/workers.ts';
import {
  F,
  newFlags,
  type CasRaceResult,
  type GrowWriterResult,
  type M11TxnResult,
  type M1ReaderResult,
  type M1WaitResult,
  type M6ReadResult,
  type M6ReaderResult,
  type Role,
  type ShardResult,
  type WorkerResult,
} from './cards.shared.ts';

const WORKER = new URL('./cards.worker.ts', import.meta.url);

// ---------------------------------------------------------------- helpers

function memDb(options: DatabaseOptions = {}): Database {
  return openDatabase({ backend: 'memory', columns: ['balance'], pageSize: 512, pageCount: 64, ...options });
}

function modes(m: Partial<Record<'M1' | 'M6' | 'M11', ModeIndex>>): Record<'M1' | 'M6' | 'M11', ModeIndex> {
  return { M1: 0, M6: 0, M11: 0, ...m };
}

function context(db: Database, slot = 0): ClassContext {
  return { sink: null, slot, rng: new Xorshift32(1), delayNs: delaysOf(db.config), shadowSampled: true };
}

function start(db: Database, flags: SharedArrayBuffer, count: number, role: Role): Promise<WorkerRun<WorkerResult>> {
  return runWorkers<WorkerResult>(WORKER, count, { ...role, shared: db.shared, flags });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` without blocking the event loop; false if `timeoutMs` passed first. */
async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) return false;
    await sleep(2);
  }
  return true;
}

function noErrors(run: WorkerRun<WorkerResult>): void {
  assert.equal(
    run.errors.map((e) => e.stack ?? e.message),
    [],
    'worker errors',
  );
}

function only<R extends WorkerResult>(run: WorkerRun<WorkerResult>, role: R['role']): R[] {
  noErrors(run);
  return run.results.filter((r): r is R => r.role === role);
}

function recorder(): { hook: (r: FieldRecord) => void; records: FieldRecord[] } {
  const records: FieldRecord[] = [];
  return { hook: (r) => records.push(r), records };
}

const balance = (c: Connection, pgno: number): number => c.exec('SELECT balance FROM ?', [pgno]);

/** M6's authoritative inner state, straight from shared memory. */
function innerState(db: Database): CommittedState {
  const w = new Int32Array(db.shared.m6);
  return {
    commit_seq: Atomics.load(w, M6.COMMIT_SEQ),
    db_size: Atomics.load(w, M6.DB_SIZE),
    freelist_count: Atomics.load(w, M6.FREELIST_COUNT),
    schema_cookie: Atomics.load(w, M6.SCHEMA_COOKIE),
    schema_generation: Atomics.load(w, M6.SCHEMA_GENERATION),
    generation: Atomics.load(w, M6.GENERATION),
  };
}

interface RingSlot extends CommittedState {
  slot: number;
  refcount: number;
  published_at_seq: number;
}

function ringSlots(db: Database): RingSlot[] {
  const w = new Int32Array(db.shared.m6);
  return Array.from({ length: ringSize(db.config) }, (_, slot) => {
    const b = M6.RING + slot * M6.RING_STRIDE;
    return {
      slot,
      refcount: Atomics.load(w, b + SNAP.REFCOUNT),
      generation: Atomics.load(w, b + SNAP.GENERATION),
      commit_seq: Atomics.load(w, b + SNAP.VISIBLE_COMMIT_SEQ),
      db_size: Atomics.load(w, b + SNAP.DB_SIZE),
      freelist_count: Atomics.load(w, b + SNAP.FREELIST_COUNT),
      schema_cookie: Atomics.load(w, b + SNAP.SCHEMA_COOKIE),
      schema_generation: Atomics.load(w, b + SNAP.SCHEMA_GENERATION),
      published_at_seq: Atomics.load(w, b + SNAP.PUBLISHED_AT_SEQ),
    };
  });
}

const stateOf = (s: CommittedState): CommittedState => ({
  commit_seq: s.commit_seq,
  db_size: s.db_size,
  freelist_count: s.freelist_count,
  schema_cookie: s.schema_cookie,
  schema_generation: s.schema_generation,
  generation: s.generation,
});

function engineError(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EngineError) return err;
    throw err;
  }
  throw new Error('expected an EngineError');
}

// ======================================================================
// M6 — PagerInner committed state
// ======================================================================

async function readWhileMutexHeld(m6Mode: ModeIndex): Promise<{ blockedWhileHeld: boolean; queuedOnMutex: boolean; result: M6ReadResult }> {
  const db = memDb({ modes: modes({ M6: m6Mode }) });
  const c = db.connect();
  c.exec('UPDATE 1 SET balance = 42');
  c.close();
  const m6 = new Int32Array(db.shared.m6);
  const flags = newFlags();
  const f = new Int32Array(flags);
  // The main thread plays a publisher stuck inside the committed-state mutex.
  assert.ok(tryLock(m6, M6.MUTEX), 'the M6 mutex is free at rest');
  const run = start(db, flags, 1, { role: 'm6-read' });
  let blockedWhileHeld = false;
  let queuedOnMutex = false;
  try {
    assert.ok(await until(() => Atomics.load(f, F.STARTED) === 1, 20_000), 'worker reached its read');
    if (m6Mode === 2) {
      blockedWhileHeld = !(await until(() => Atomics.load(f, F.DONE) === 1, 2000));
      // Nobody ever queued on the mutex: the word is still "held, no waiters".
      queuedOnMutex = Atomics.load(m6, M6.MUTEX) !== 1;
    } else {
      queuedOnMutex = await until(() => Atomics.load(m6, M6.MUTEX) === 2, 5000);
      await sleep(300);
      blockedWhileHeld = Atomics.load(f, F.DONE) === 0;
    }
  } finally {
    unlock(m6, M6.MUTEX);
  }
  const [result] = only<M6ReadResult>(await run, 'm6-read');
  assert.ok(result, 'worker reported');
  assert.is(Atomics.load(f, F.DONE), 1, 'the read completed once the mutex was free');
  return { blockedWhileHeld, queuedOnMutex, result };
}

test('M6 unit: concurrent read during publish never blocks on the legacy mutex (snapshot mode)', async () => {
  const { blockedWhileHeld, queuedOnMutex, result } = await readWhileMutexHeld(2);
  assert.is(blockedWhileHeld, false, 'snapshot-mode begin/SELECT/commit finished within 2 s while the M6 mutex was held');
  assert.is(queuedOnMutex, false, 'the snapshot reader never queued on the M6 mutex');
  assert.is(result.value, 42);
  assert.is(result.seq, 1);
  assert.equal(result.modes, ['read:snapshot']);
});

test('M6 unit: the same read in legacy mode does block on the mutex until it is released (comparator)', async () => {
  const { blockedWhileHeld, queuedOnMutex, result } = await readWhileMutexHeld(0);
  assert.is(queuedOnMutex, true, 'the legacy reader queued on the M6 mutex');
  assert.is(blockedWhileHeld, true, 'the legacy read had not completed 300 ms after it queued');
  assert.is(result.value, 42);
  assert.is(result.seq, 1);
  assert.equal(result.modes, ['read:legacy']);
});

/** Commits a varied sequence (growing db_size, DDL, rollbacks, empty commits); calls `after` on every real commit. */
function commitSequence(w: Connection, commits: number, after: (seq: number, i: number) => void): void {
  for (let i = 1; i <= commits; i++) {
    if (i % 25 === 0) {
      w.schemaChange(`ALTER ADD COLUMN c${i}`);
      after(w.visibleCommitSeq(), i);
      continue;
    }
    w.begin(i % 2 === 0 ? 'write' : 'concurrent');
    w.exec('UPDATE ? SET balance = ?', [1 + (i % 60), i]);
    if (i % 7 === 0) {
      w.rollback();
      continue;
    }
    const seq = w.commit();
    after(seq, i);
    if (i % 11 === 0) {
      w.begin('write');
      assert.is(w.commit(), seq, 'an empty write transaction commits nothing');
    }
  }
}

test('M6 unit: published snapshot matches the just-committed inner state (snapshot mode)', () => {
  const db = memDb({ modes: modes({ M6: 2 }) });
  const wrec = recorder();
  const w = db.connect({ hook: wrec.hook });
  const r = db.connect();
  let expectedGeneration = 0;
  let checked = 0;
  commitSequence(w, 300, (seq, i) => {
    expectedGeneration++;
    const inner = innerState(db);
    assert.is(inner.commit_seq, seq, `commit ${i}: inner commit_seq is what commit() returned`);
    assert.is(inner.generation, expectedGeneration, `commit ${i}: one generation per publish`);
    const current = ringSlots(db)[Atomics.load(new Int32Array(db.shared.m6), M6.RING_CURRENT)]!;
    assert.equal(stateOf(current), inner, `commit ${i}: the current ring slot is the inner state`);
    assert.is(current.published_at_seq, seq);
    const publish = wrec.records.filter((x): x is M6Record => x.metadata_class === 'M6' && x.operation === 'publish').at(-1);
    assert.ok(publish, 'a publish record');
    assert.equal(
      [publish.visible_commit_seq, publish.snapshot_generation, publish.db_size, publish.freelist_count, publish.snapshot_age_commits, publish.control_mode],
      [seq, inner.generation, inner.db_size, inner.freelist_count, 0, 'snapshot'],
      `commit ${i}: publish record`,
    );
    r.begin('read');
    assert.equal(stateOf(r.snapshot), inner, `commit ${i}: a new reader binds the just-committed state`);
    assert.is(r.snapshot.freelist_count, db.config.pageCount - r.snapshot.db_size);
    if (i % 25 !== 0) assert.is(balance(r, 1 + (i % 60)), i, `commit ${i}: the reader sees the committed value`);
    r.commit();
    checked++;
  });
  assert.ok(checked > 200, `checked ${checked} commits`);
  assert.is(innerState(db).schema_cookie, 1 + Math.floor(300 / 25), 'the DDLs bumped the cookie');
  assert.is(innerState(db).db_size, 61);
});

test('M6 unit: in shadow_compare mode every comparison of snapshot and legacy state matches', () => {
  const db = memDb({ modes: modes({ M6: 1 }) });
  const rrec = recorder();
  const w = db.connect({ hook: rrec.hook });
  const r = db.connect({ hook: rrec.hook });
  let binds = 0;
  commitSequence(w, 300, (seq, i) => {
    r.begin('read');
    binds++;
    assert.is(r.snapshot.commit_seq, seq);
    assert.equal(stateOf(r.snapshot), innerState(db), `commit ${i}`);
    r.commit();
  });
  const m6 = rrec.records.filter((x): x is M6Record => x.metadata_class === 'M6');
  const compares = m6.filter((x) => x.operation === 'shadow_compare');
  assert.ok(compares.length >= binds, `${compares.length} shadow comparisons for ${binds} reader binds`);
  assert.equal(
    compares.filter((x) => x.shadow_verdict !== 'match').map((x) => x.diverged_fields),
    [],
    'no verdict other than match',
  );
  assert.ok(m6.filter((x) => x.operation === 'publish').every((x) => x.control_mode === 'shadow_compare'));
});

test('M6 control: an injected stale publish makes shadow_compare report diverged (the comparator can fail)', () => {
  const db = memDb({ modes: modes({ M6: 1 }), faults: { M6: { stale_publish: 0.5 } } });
  const rrec = recorder();
  const w = db.connect();
  const r = db.connect({ hook: rrec.hook });
  for (let i = 1; i <= 40; i++) {
    w.exec('UPDATE ? SET balance = ?', [1 + (i % 10), i]);
    r.begin('read');
    assert.is(r.snapshot.commit_seq, i, 'shadow mode still serves the legacy (authoritative) state');
    r.commit();
  }
  const diverged = rrec.records.filter((x): x is M6Record => x.metadata_class === 'M6' && x.shadow_verdict === 'diverged');
  assert.ok(diverged.length > 0, 'some comparisons diverged');
  assert.ok(
    diverged.every((x) => (x.diverged_fields ?? []).some((d) => d.field === 'visible_commit_seq')),
    'divergence names visible_commit_seq',
  );
});

for (const m6Mode of [2, 1] as const) {
  test(`M6 unit: readers in another thread always bind a coherent just-published snapshot under commit churn (M6=${m6Mode})`, async () => {
    const db = memDb({ pageCount: 2048, modes: modes({ M6: m6Mode }) });
    const flags = newFlags();
    const commits = 1000;
    const [writer, reader] = await Promise.all([
      start(db, flags, 1, { role: 'grow-writer', commits, parties: 3 }),
      start(db, flags, 2, { role: 'm6-reader', parties: 3 }),
    ]);
    const [w] = only<GrowWriterResult>(writer!, 'grow-writer');
    assert.is(w?.lastSeq, commits);
    const readers = only<M6ReaderResult>(reader!, 'm6-reader');
    assert.is(readers.length, 2);
    for (const r of readers) {
      assert.equal(r.violations, [], 'reader violations');
      assert.is(r.maxSeq, commits, 'the last read transaction saw the last commit');
      assert.ok(r.txns > 1);
      const binds = Object.values(r.operations).reduce((a, b) => a + b, 0);
      assert.ok(binds > 1, `only ${binds} M6 binds in ${r.txns} read transactions`);
      if (m6Mode === 1) {
        assert.equal(Object.keys(r.verdicts), ['match'], `verdicts ${JSON.stringify(r.verdicts)}`);
      } else {
        assert.equal(Object.keys(r.operations), ['read:snapshot'], `operations ${JSON.stringify(r.operations)}`);
      }
    }
  });
}

test('M6 unit: retired snapshots remain valid until the last reader drops them', () => {
  // maxConnections 4: a ring of 6 slots, so 50 publishes wrap it many times.
  // versionsPerPage 64: the page store keeps every version newer than the
  // oldest reader's, so 50 commits per page need 51 versions.
  const db = memDb({ maxConnections: 4, pageCount: 32, versionsPerPage: 64, modes: modes({ M6: 2 }) });
  const b = db.connect();
  for (let p = 1; p <= 10; p++) b.exec('UPDATE ? SET balance = ?', [p, 100 + p]);
  const a1 = db.connect();
  const a2 = db.connect();
  a1.begin('read');
  a2.begin('read');
  const snap = stateOf(a1.snapshot);
  assert.equal(stateOf(a2.snapshot), snap, 'both readers bound the same snapshot');
  const pages = Array.from({ length: 10 }, (_, k) => k + 1);
  const values = pages.map((p) => balance(a1, p));
  assert.equal(
    values,
    pages.map((p) => 100 + p),
  );
  const heldBy = (n: number): RingSlot[] => ringSlots(db).filter((s) => s.refcount === n);
  const [held] = heldBy(2);
  assert.ok(held, 'one ring slot is referenced by both readers');
  assert.equal(stateOf(held), snap, "the held slot is the readers' snapshot");
  const cur = (): number => Atomics.load(new Int32Array(db.shared.m6), M6.RING_CURRENT);

  let lastSeq = snap.commit_seq;
  for (let i = 1; i <= 50; i++) {
    b.begin('write');
    for (const p of pages) b.exec('UPDATE ? SET balance = balance + ?', [p, 1]);
    lastSeq = b.commit();
    if (i === 25) {
      assert.equal(
        pages.map((p) => balance(a2, p)),
        values,
        'a2 read its snapshot to the end',
      );
      a2.commit();
    }
    const refs = i < 25 ? 2 : 1;
    const slot = ringSlots(db)[held.slot]!;
    assert.is(slot.refcount, refs, `commit ${i}: the retired slot is still referenced ${refs} time(s)`);
    assert.equal(stateOf(slot), snap, `commit ${i}: the retired slot was not overwritten`);
    assert.is.not(cur(), held.slot, `commit ${i}: the retired slot is not current`);
    assert.equal(stateOf(a1.snapshot), snap, `commit ${i}: a1's snapshot is unchanged`);
    assert.equal(
      pages.map((p) => balance(a1, p)),
      values,
      `commit ${i}: a1 still reads the values of its snapshot`,
    );
  }
  assert.is(lastSeq, snap.commit_seq + 50);
  a1.commit();
  assert.is(ringSlots(db)[held.slot]!.refcount, 0, 'dropped by the last reader');
  // Once dropped the slot is recycled: the ring (6 slots) wraps within a few publishes.
  for (let i = 0; i < ringSize(db.config); i++) b.exec('UPDATE 11 SET balance = ?', [i]);
  assert.is.not(ringSlots(db)[held.slot]!.commit_seq, snap.commit_seq, 'the dropped slot was reused');
  a1.begin('read');
  assert.equal(stateOf(a1.snapshot), innerState(db), 'a new read binds the latest state');
  assert.equal(
    pages.map((p) => balance(a1, p)),
    pages.map((p) => 150 + p),
  );
  a1.commit();
});

test('engine regression: an empty write transaction releases the writer lock', () => {
  const db = memDb({ busyTimeoutMs: 200 });
  const a = db.connect();
  const b = db.connect();
  a.begin('write');
  assert.is(a.commit(), 0, 'nothing committed');
  b.begin('write');
  b.exec('UPDATE 1 SET balance = 3');
  assert.is(b.commit(), 1, 'another connection takes the writer lock at once');
  a.begin('write');
  a.rollback();
  a.exec('UPDATE 2 SET balance = 4');
  assert.is(a.visibleCommitSeq(), 2);
  a.close();
  b.close();
});

// ======================================================================
// M1 — PublishedPagerState
// ======================================================================

async function m1Churn(m1Mode: ModeIndex, options: DatabaseOptions, commits = 1000): Promise<M1ReaderResult[]> {
  const db = memDb({ pageCount: 2048, modes: modes({ M1: m1Mode }), ...options });
  const flags = newFlags();
  const [writer, reader] = await Promise.all([
    start(db, flags, 1, { role: 'grow-writer', commits, parties: 3 }),
    start(db, flags, 2, { role: 'm1-reader', parties: 3 }),
  ]);
  assert.is(only<GrowWriterResult>(writer!, 'grow-writer')[0]?.lastSeq, commits);
  const readers = only<M1ReaderResult>(reader!, 'm1-reader');
  assert.is(readers.length, 2);
  return readers;
}

for (const m1Mode of [0, 1, 2] as const) {
  test(`M1 unit: concurrent publish/read never surfaces torn field combinations (M1=${m1Mode})`, async () => {
    // maxReadRetries 1: every failed seqlock validation takes the locked fallback path too.
    const readers = await m1Churn(m1Mode, { maxReadRetries: 1 });
    for (const r of readers) {
      assert.ok(r.records > 0 && r.reads > 0);
      assert.is(r.torn, 0, `M1 records flagged torn: ${JSON.stringify(r)}`);
      assert.is(r.incoherent, 0, `summaries whose fields came from two publications: ${JSON.stringify(r)}`);
      assert.is(r.nonMonotone, 0, `sequence_value went backwards: ${JSON.stringify(r)}`);
      assert.is(r.maxSeq, 1000, 'the reader saw the last publication');
      if (m1Mode === 1)
        assert.equal(
          Object.keys(r.verdicts).filter((v) => v === 'diverged'),
          [],
          `verdicts ${JSON.stringify(r.verdicts)}`,
        );
    }
  });
}

test('M1 control: an injected torn read is caught by the same checks (the test can fail)', async () => {
  const readers = await m1Churn(2, { pageCount: 4096, faults: { M1: { torn_read: 0.3 } } }, 3000);
  const torn = readers.reduce((n, r) => n + r.torn, 0);
  const incoherent = readers.reduce((n, r) => n + r.incoherent, 0);
  assert.ok(torn > 0, `torn records: ${torn}`);
  assert.ok(incoherent > 0, `incoherent summaries: ${incoherent}`);
});

for (const [m1Mode, bound] of [
  [2, 2],
  [0, 3],
] as const) {
  test(`M1 unit: retry count stays bounded under publish churn (M1=${m1Mode}, maxReadRetries=${bound})`, async () => {
    const readers = await m1Churn(m1Mode, { maxReadRetries: bound });
    const max = Math.max(...readers.map((r) => r.maxRetries));
    assert.ok(max <= bound, `max read_retry_count ${max} > maxReadRetries ${bound}`);
    for (const r of readers) assert.is(r.torn + r.incoherent, 0);
  });
}

/** A deterministic single-connection history; returns every summary seen along it and the final state hash. */
function m1History(db: Database): { summaries: PagerSummary[]; visible: number[]; hash: string } {
  const c = db.connect();
  const bare = new M1PublishedPagerState(db.shared, context(db, 99), db.config);
  const summaries: PagerSummary[] = [];
  const visible: number[] = [];
  const look = (): void => {
    visible.push(c.visibleCommitSeq());
    summaries.push({ ...bare.read(emptySummary()) });
  };
  look();
  for (let i = 1; i <= 120; i++) {
    if (i % 40 === 0) c.schemaChange(`ALTER ADD COLUMN x${i}`);
    else if (i % 9 === 0) {
      c.begin('write');
      c.exec('UPDATE ? SET balance = ?', [(i % 30) + 1, -i]);
      c.rollback();
    } else if (i % 13 === 0) {
      c.checkpoint();
    } else {
      c.begin(i % 2 === 0 ? 'write' : 'concurrent');
      c.exec('UPDATE ? SET balance = balance + ?', [((i * 7) % 30) + 1, i]);
      c.exec('SELECT balance FROM ?', [((i * 3) % 30) + 1]);
      c.commit();
    }
    look();
  }
  const hash = c.stateHash();
  c.close();
  return { summaries, visible, hash };
}

for (const backend of ['memory', 'file'] as const) {
  test(`M1 unit: forced legacy and forced polling modes produce identical snapshots (${backend})`, () => {
    const runs = ([0, 2, 1] as const).map((m1Mode) => {
      const path = backend === 'file' ? join(mkdtempSync(join(tmpdir(), 'sb-cards-m1-')), 'db') : null;
      const db = openDatabase({ backend, path, columns: ['balance'], pageSize: 512, pageCount: 64, fsync: 'off', modes: modes({ M1: m1Mode }) });
      return m1History(db);
    });
    const [legacy, polling, shadow] = runs as [ReturnType<typeof m1History>, ReturnType<typeof m1History>, ReturnType<typeof m1History>];
    assert.ok(legacy.visible.at(-1)! > 90, 'the history committed');
    if (backend === 'file') assert.ok(legacy.summaries.at(-1)!.checkpoint_seq > 1, 'the history checkpointed');
    assert.equal(polling.visible, legacy.visible, 'visibleCommitSeq() sequence');
    assert.equal(polling.summaries, legacy.summaries, 'whole summaries');
    assert.is(polling.hash, legacy.hash, 'final stateHash');
    assert.equal(shadow.summaries, legacy.summaries, 'shadow_compare too');
    assert.is(shadow.hash, legacy.hash);
  });
}

for (const m1Mode of [0, 2] as const) {
  test(`M1 unit: waitForCommit in another thread wakes on the next commit, and times out otherwise (M1=${m1Mode})`, async () => {
    const db = memDb({ modes: modes({ M1: m1Mode }) });
    const c = db.connect();
    c.exec('UPDATE 1 SET balance = 1');
    const n = c.visibleCommitSeq();
    assert.is(n, 1);
    const waitFlags = newFlags();
    const timeoutFlags = newFlags();
    const waiting = start(db, waitFlags, 1, { role: 'm1-wait', target: n + 1, timeoutMs: 8000 });
    const timingOut = start(db, timeoutFlags, 1, { role: 'm1-wait', target: n + 100, timeoutMs: 300 });
    assert.ok(await until(() => Atomics.load(new Int32Array(waitFlags), F.STARTED) === 1, 20_000), 'waiter started');
    await sleep(150);
    c.exec('UPDATE 2 SET balance = 2');
    const [woken] = only<M1WaitResult>(await waiting, 'm1-wait');
    assert.ok(woken);
    assert.is(woken.reached, true, 'the wait for N+1 returned true');
    // A missed wake-up would still return true, but only at the 8 s deadline.
    assert.ok(woken.elapsedMs < 4000, `woken after ${woken.elapsedMs.toFixed(0)} ms`);
    assert.ok(woken.visibleAfter >= n + 1);
    const [timedOut] = only<M1WaitResult>(await timingOut, 'm1-wait');
    assert.ok(timedOut);
    assert.is(timedOut.reached, false, 'the wait for N+100 timed out');
    assert.ok(timedOut.elapsedMs >= 250 && timedOut.elapsedMs < 5000, `timed out after ${timedOut.elapsedMs.toFixed(0)} ms`);
    // It may time out before or after the main thread's commit.
    assert.ok(timedOut.visibleAfter === n || timedOut.visibleAfter === n + 1, `visible after the timeout: ${timedOut.visibleAfter}`);
    // Already reached: returns at once, in this thread.
    assert.is(c.waitForCommit(n + 1, 0), true);
    assert.is(c.waitForCommit(n + 2, 0), false);
    c.close();
  });
}

test('M1 unit: a condvar waiter from before a switch to polling is still woken by the next commit', async () => {
  const db = memDb({ modes: modes({ M1: 0 }) });
  const c = db.connect();
  const flags = newFlags();
  const waiting = start(db, flags, 1, { role: 'm1-wait', target: 1, timeoutMs: 8000 });
  assert.ok(await until(() => Atomics.load(new Int32Array(flags), F.STARTED) === 1, 20_000));
  await sleep(150);
  db.setMode('M1', 'polling');
  c.exec('UPDATE 1 SET balance = 1');
  const [woken] = only<M1WaitResult>(await waiting, 'm1-wait');
  assert.ok(woken?.reached);
  assert.ok(woken.elapsedMs < 4000, `woken after ${woken.elapsedMs.toFixed(0)} ms`);
  c.close();
});

// ======================================================================
// M11 — concurrent registry + page-lock table
// ======================================================================

test('M11 unit: deterministic shard assignment for a given session_id', async () => {
  const counts = [1, 2, 3, 5, 8, 13, 16];
  const ids = 4000;
  const here: Record<string, number[]> = {};
  for (const n of counts) {
    const table = Array.from({ length: ids }, (_, i) => shardOf(i + 1, n));
    assert.equal(
      Array.from({ length: ids }, (_, i) => shardOf(i + 1, n)),
      table,
      `stable across calls (${n} shards)`,
    );
    here[String(n)] = table;
    const perShard = new Array<number>(n).fill(0);
    for (const s of table) {
      assert.ok(Number.isInteger(s) && s >= 0 && s < n, `shard ${s} in [0, ${n})`);
      perShard[s]!++;
    }
    const mean = ids / n;
    assert.ok(
      perShard.every((k) => k > mean * 0.5 && k < mean * 1.5),
      `${n} shards: spread ${perShard.join(',')}`,
    );
  }
  // Same answer in another thread.
  const db = memDb();
  const [there] = only<ShardResult>(await start(db, newFlags(), 1, { role: 'shard', ids, shards: counts }), 'shard');
  assert.equal(there?.table, here, 'stable across threads');
  // Same answer from two registry instances on two databases, and the session lands there.
  const dbs = [memDb({ modes: modes({ M11: 2 }), registryShards: 8 }), memDb({ modes: modes({ M11: 2 }), registryShards: 8, seed: 77 })];
  for (const d of dbs) {
    const reg = new M11SessionRegistry(d.shared, context(d), d.config);
    for (let id = 1; id <= 64; id++) {
      const s = reg.begin(id, 0, 0);
      assert.is(s.expectedTable, 1 + shardOf(id, 8));
      assert.is(s.actualTable, s.expectedTable);
      assert.ok(reg.sessionsIn(s.expectedTable).includes(id), `session ${id} is in table ${s.expectedTable}`);
      assert.ok(reg.lookup(s));
      reg.end(s, id % 2 === 0 ? 'commit' : 'abort');
      assert.is(reg.sessionsIn(s.expectedTable).includes(id), false);
    }
  }
});

function assertRegistryEmpty(db: Database): void {
  const reg = new M11SessionRegistry(db.shared, context(db), db.config);
  for (let t = 0; t <= db.config.registryShards; t++) {
    assert.equal(reg.sessionsIn(t), [], `table ${t} holds no session`);
    assert.is(reg.activeIn(t), 0, `table ${t} counts no session`);
  }
}

for (const m11Mode of [2, 1, 0] as const) {
  test(`M11 unit: begin/commit/abort on different shards never lose sessions (M11=${m11Mode}, 4 workers)`, async () => {
    const db = memDb({ modes: modes({ M11: m11Mode }), pageCount: 32, registryShards: 8 });
    const txns = m11Mode === 2 ? 400 : 200;
    const run = await start(db, newFlags(), 4, { role: 'm11-txn', txns });
    const results = only<M11TxnResult>(run, 'm11-txn');
    assert.is(results.length, 4);
    const shards = new Set<number>();
    for (const r of results) {
      assert.equal(r.violations, [], 'worker violations');
      assert.is(r.commits + r.aborts + r.retries, txns);
      assert.ok(r.commits > 0 && r.aborts > 0, `commits ${r.commits}, aborts ${r.aborts}`);
      assert.ok(r.checks > 0);
      assert.is(r.notFound, 0, 'no session_not_found');
      assert.is(r.diverged, 0, 'no diverged lookup');
      r.shardsSeen.forEach((s) => shards.add(s));
    }
    if (m11Mode !== 0) assert.is(shards.size, 8, `sessions used shards ${[...shards].join(',')}`);
    assertRegistryEmpty(db);
    // The committed increments add up: every acknowledged commit applied exactly once.
    const c = db.connect();
    const total = c.exec('SELECT SUM(balance) FROM 2 TO 18');
    c.close();
    assert.is(
      total,
      results.reduce((n, r) => n + r.commits, 0),
      'pages 2..17 hold one increment per acknowledged commit',
    );
  });
}

test('M11 control: misrouted sessions surface as session_not_found and are still swept from every shard', () => {
  const db = memDb({ modes: modes({ M11: 2 }), faults: { M11: { misroute: 0.5 } } });
  const rec = recorder();
  const c = db.connect({ hook: rec.hook });
  let notFound = 0;
  for (let i = 1; i <= 60; i++) {
    c.begin('write');
    c.exec('UPDATE ? SET balance = ?', [1 + (i % 10), i]);
    try {
      c.commit();
    } catch (err) {
      if (!(err instanceof EngineError) || err.code !== 'session_not_found') throw err;
      notFound++;
    }
  }
  c.close();
  assert.ok(notFound > 0, 'some sessions were misrouted');
  assert.ok(rec.records.some((r): r is M11Record => r.metadata_class === 'M11' && r.session_not_found === true));
  assertRegistryEmpty(db);
});

test('M11 unit: page-lock CAS semantics remain unchanged', () => {
  for (const m11Mode of [0, 1, 2] as const) {
    const db = memDb({ modes: modes({ M11: m11Mode }) });
    const locks = new PageLockTable(db.shared);
    assert.is(locks.holder(3), 0, 'free at start');
    assert.ok(locks.tryAcquire(3, 7), 'free page: acquired');
    assert.is(locks.holder(3), 7);
    assert.ok(locks.tryAcquire(3, 7), 'owner re-acquires');
    assert.is(locks.tryAcquire(3, 8), false, 'another session cannot take it');
    assert.is(locks.holder(3), 7, 'a failed acquire changes nothing');
    assert.is(locks.release(3, 8), false, 'a non-owner cannot release');
    assert.is(locks.holder(3), 7, 'a failed release changes nothing');
    assert.is(locks.holder(4), 0, 'other pages are independent');
    assert.ok(locks.tryAcquire(4, 8));
    assert.ok(locks.release(3, 7), 'owner releases');
    assert.is(locks.holder(3), 0, 'released');
    assert.is(locks.release(3, 7), false, 'a second release fails');
    assert.ok(locks.tryAcquire(3, 8), 'now another session can take it');
    assert.ok(locks.release(3, 8) && locks.release(4, 8));
    // Through connections: a page written in one transaction is locked for the other.
    const a = db.connect();
    const b = db.connect();
    a.begin('concurrent');
    a.exec('UPDATE 5 SET balance = 1');
    b.begin('concurrent');
    const err = engineError(() => b.exec('UPDATE 5 SET balance = 2'));
    assert.is(err.code, 'busy');
    assert.ok(locks.holder(5) !== 0);
    b.rollback();
    a.commit();
    assert.is(locks.holder(5), 0, 'commit released the page');
    b.exec('UPDATE 5 SET balance = 2');
    assert.is(balance(a, 5), 2);
    a.close();
    b.close();
  }
});

test('M11 unit: page-lock CAS race between 4 threads has exactly one winner per round', async () => {
  const db = memDb({ modes: modes({ M11: 2 }) });
  const rounds = 400;
  const flags = newFlags(rounds);
  const run = await start(db, flags, 4, { role: 'cas-race', rounds, page: 9, parties: 4 });
  const results = only<CasRaceResult>(run, 'cas-race');
  assert.is(results.length, 4);
  for (const r of results) assert.equal(r.violations, []);
  const wins = new Int32Array(flags, F.WINS * 4, rounds);
  const bad = [...wins].map((w, r) => [r, w]).filter(([, w]) => w !== 1);
  assert.equal(bad, [], 'rounds without exactly one winner ([round, winners])');
  assert.is(
    results.reduce((n, r) => n + r.wins, 0),
    rounds,
  );
  assert.is(new PageLockTable(db.shared).holder(9), 0, 'free after the race');
});

test.run();
