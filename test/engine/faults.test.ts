// Fault injection: with each fault on, the comparison or invariant that is
// meant to catch it does; with the fault off, it stays quiet.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase, EngineError, type Database, type DatabaseOptions, type FieldRecord, type MetadataClass } from '../../engine/index.ts';
import { REG, registryTableWords } from '../../engine/shared/layout.ts';
import { runWorkers } from '../support/workers.ts';
import { SYNC, type FaultResult, type Scenario } from './faults.worker.ts';

const WORKER = new URL('./faults.worker.ts', import.meta.url);

function open(options: DatabaseOptions): Database {
  return openDatabase({ backend: 'memory', columns: ['balance'], pageSize: 512, pageCount: 64, seed: 7, ...options });
}

interface Merged {
  counts: Record<string, number>;
  errors: Record<string, number>;
}

async function runScenario(db: Database, scenario: Scenario, workers: number, iterations: number): Promise<Merged> {
  const { results, errors } = await runWorkers<FaultResult>(WORKER, workers, { shared: db.shared, scenario, iterations });
  return merge(results, errors, workers);
}

function merge(results: FaultResult[], errors: Error[], workers: number): Merged {
  assert.equal(
    errors.map((e) => e.stack ?? e.message),
    [],
    'worker threads threw',
  );
  assert.is(results.length, workers, 'every worker reported');
  assert.equal(
    results.flatMap((r) => r.violations),
    [],
    'workers saw violations',
  );
  const out: Merged = { counts: {}, errors: {} };
  for (const r of results) {
    for (const [k, v] of Object.entries(r.counts)) out.counts[k] = (out.counts[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.errors)) out.errors[k] = (out.errors[k] ?? 0) + v;
  }
  return out;
}

const n = (m: Merged, key: string): number => m.counts[key] ?? 0;
const show = (m: Merged): string => JSON.stringify(m);

/** Sessions left in the M11 registry (global table and every shard), read from shared memory. */
function registrySessions(db: Database): number[] {
  const c = db.config;
  const reg = new Int32Array(db.shared.registry);
  const stride = registryTableWords(c);
  const ids: number[] = [];
  for (let t = 0; t <= c.registryShards; t++) {
    const base = REG.TABLES + t * stride;
    if (reg[base + REG.COUNT] !== 0) ids.push(-1 - t);
    for (let i = 0; i < c.maxConnections; i++) {
      const id = reg[base + REG.HEADER + i * REG.ENTRY + REG.SESSION_ID] ?? 0;
      if (id !== 0) ids.push(id);
    }
  }
  return ids;
}

// ---- M6 stale_publish ----

test('M6 stale_publish=0.5 in shadow_compare: the comparator reports diverged visible_commit_seq', async () => {
  const db = open({ modes: { M1: 0, M6: 1, M11: 0 }, faults: { M6: { stale_publish: 0.5 } } });
  const m = await runScenario(db, 'm6', 3, 400);
  assert.ok(n(m, 'commits') > 0, show(m));
  assert.ok(n(m, 'M6:shadow_compare:diverged') > 0, `no diverged shadow_compare record: ${show(m)}`);
  assert.ok(n(m, 'M6:diverged_field:visible_commit_seq') > 0, `diverged records do not name visible_commit_seq: ${show(m)}`);
  // The fault only bends the snapshot, and shadow_compare serves the legacy result: reads stay fresh.
  assert.is(n(m, 'stale_read'), 0, `shadow_compare served a stale snapshot: ${show(m)}`);
  assert.is(m.errors.write_conflict ?? 0, 0, `shadow_compare bound a stale snapshot for a writer: ${show(m)}`);
});

test('M6 stale_publish off in shadow_compare: zero diverged', async () => {
  const db = open({ modes: { M1: 0, M6: 1, M11: 0 } });
  const m = await runScenario(db, 'm6', 3, 400);
  assert.ok(n(m, 'M6:shadow_compare:match') > 0, show(m));
  assert.is(n(m, 'M6:shadow_compare:diverged'), 0, show(m));
  assert.is(n(m, 'stale_read'), 0, show(m));
});

test('M6 stale_publish=0.5 in snapshot mode: stale snapshots reach readers and writers; off: never', async () => {
  // Each worker writes only its own page, so a write_conflict can only come
  // from a transaction bound to a snapshot older than the worker's own commit.
  const on = await runScenario(open({ modes: { M1: 0, M6: 2, M11: 0 }, faults: { M6: { stale_publish: 0.5 } } }), 'm6', 3, 400);
  assert.ok(n(on, 'stale_read') > 0, `a stale publication never reached a reader: ${show(on)}`);
  assert.ok((on.errors.write_conflict ?? 0) > 0, `no writer tripped over a stale snapshot: ${show(on)}`);
  const off = await runScenario(open({ modes: { M1: 0, M6: 2, M11: 0 } }), 'm6', 3, 400);
  assert.is(n(off, 'stale_read'), 0, `stale read without the fault: ${show(off)}`);
  assert.is(off.errors.write_conflict ?? 0, 0, `write conflict on a private page without the fault: ${show(off)}`);
});

// ---- M11 misroute ----

test('M11 misroute=0.3 in shadow_compare: lookups diverge with session_not_found, commits still succeed', async () => {
  const db = open({ registryShards: 8, modes: { M1: 0, M6: 0, M11: 1 }, faults: { M11: { misroute: 0.3 } } });
  const m = await runScenario(db, 'm11', 3, 300);
  assert.ok(n(m, 'M11:lookup:diverged') > 0, `no diverged lookup: ${show(m)}`);
  assert.ok(n(m, 'M11:lookup:session_not_found') > 0, show(m));
  // Every diverged lookup is a routed miss, and vice versa.
  assert.is(n(m, 'M11:lookup:diverged'), n(m, 'M11:lookup:session_not_found'), show(m));
  assert.is(m.errors.session_not_found ?? 0, 0, `shadow_compare must serve the legacy answer: ${show(m)}`);
  assert.equal(registrySessions(db), [], 'sessions left in the registry');
});

test('M11 misroute=0.3 in sharded mode: commits fail with session_not_found, no session is lost', async () => {
  const db = open({ registryShards: 8, modes: { M1: 0, M6: 0, M11: 2 }, faults: { M11: { misroute: 0.3 } } });
  const m = await runScenario(db, 'm11', 3, 300);
  const failed = m.errors.session_not_found ?? 0;
  assert.ok(failed > 0, `no commit failed with session_not_found: ${show(m)}`);
  assert.ok(n(m, 'commits') > 0, show(m));
  // Each failed commit is one lookup record flagged session_not_found.
  assert.is(n(m, 'M11:lookup:session_not_found'), failed, show(m));
  // The misrouted session is swept on abort, flagged as missing where it was expected.
  assert.is(n(m, 'M11:abort:session_not_found'), failed, show(m));
  assert.equal(registrySessions(db), [], 'a misrouted session was lost in the registry');

  // After the fallback the database works normally for a new connection.
  db.forceLegacy('M11');
  const conn = db.connect();
  for (let i = 0; i < 50; i++) {
    conn.begin('concurrent');
    conn.exec('UPDATE ? SET balance = balance + 1', [40]);
    conn.commit();
  }
  assert.is(conn.exec('SELECT balance FROM ?', [40]), 50);
  conn.close();
  assert.equal(registrySessions(db), []);
});

test('M11 misroute off: zero diverged, zero session_not_found in shadow_compare and sharded', async () => {
  for (const mode of [1, 2] as const) {
    const db = open({ registryShards: 8, modes: { M1: 0, M6: 0, M11: mode } });
    const m = await runScenario(db, 'm11', 3, 300);
    assert.ok(n(m, 'commits') > 0, show(m));
    assert.is(n(m, 'M11:lookup:diverged'), 0, show(m));
    for (const op of ['begin', 'lookup', 'commit', 'abort']) assert.is(n(m, `M11:${op}:session_not_found`), 0, show(m));
    assert.is(m.errors.session_not_found ?? 0, 0, show(m));
    if (mode === 1) assert.ok(n(m, 'M11:lookup:match') > 0, show(m));
    assert.equal(registrySessions(db), []);
  }
});

// ---- M1 torn_read ----

async function m1Run(mode: 1 | 2, tornRead: number | null): Promise<Merged> {
  const db = open({ modes: { M1: mode, M6: 0, M11: 0 }, ...(tornRead === null ? {} : { faults: { M1: { torn_read: tornRead } } }) });
  const sync = new SharedArrayBuffer(SYNC.WORDS * 4);
  const common = { shared: db.shared, sync, readers: 2, minWriterCommits: 200 };
  const [writer, readers] = await Promise.all([
    runWorkers<FaultResult>(WORKER, 1, { ...common, scenario: 'm1-writer', iterations: 0 }),
    runWorkers<FaultResult>(WORKER, 2, { ...common, scenario: 'm1-reader', iterations: 3000 }),
  ]);
  merge(writer.results, writer.errors, 1);
  const m = merge(readers.results, readers.errors, 2);
  assert.ok(n(m, 'writer_commits_seen') > 0, `the readers never overlapped the writer: ${show(m)}`);
  assert.ok(n(m, 'distinct_seq') > 2, `the readers never saw a commit land: ${show(m)}`);
  return m;
}

test('M1 torn_read=0.2 in polling mode: read records flagged torn; off: none', async () => {
  const on = await m1Run(2, 0.2);
  assert.ok(n(on, 'M1:read:torn') > 0, `no torn read flagged: ${show(on)}`);
  const off = await m1Run(2, null);
  assert.is(n(off, 'M1:read:torn'), 0, `torn read without the fault: ${show(off)}`);
  assert.is(n(off, 'M1:read:diverged'), 0, show(off));
});

test('M1 torn_read=0.2 in shadow_compare: read records diverge; off: none', async () => {
  const on = await m1Run(1, 0.2);
  assert.ok(n(on, 'M1:read:diverged') > 0, `no diverged read: ${show(on)}`);
  const off = await m1Run(1, null);
  assert.is(n(off, 'M1:read:diverged'), 0, `diverged without the fault: ${show(off)}`);
  assert.is(n(off, 'M1:read:torn'), 0, show(off));
  assert.ok(n(off, 'M1:read:match') > 0, show(off));
});

// ---- delay_ns ----

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/**
 * Durations (ms) of one class's records from a reader connection while a
 * second connection commits between its transactions (so every read
 * transaction binds afresh), in the main thread.
 */
function recordDurations(db: Database, cls: MetadataClass, keep: (r: FieldRecord) => boolean): number[] {
  const durations: number[] = [];
  const hook = (r: FieldRecord): void => {
    if (r.metadata_class === cls && keep(r)) durations.push((r.end_ns - r.start_ns) / 1e6);
  };
  const writer = db.connect({ hook });
  const reader = db.connect({ hook });
  for (let i = 0; i < 40; i++) {
    writer.begin('concurrent');
    writer.exec('UPDATE ? SET balance = balance + 1', [5]);
    writer.commit();
    reader.begin('read');
    reader.exec('SELECT balance FROM ?', [5]);
    reader.commit();
  }
  writer.close();
  reader.close();
  return durations;
}

const DELAY_NS = 200_000;
const DELAY_MS = DELAY_NS / 1e6;

test('M6 delay_ns: M6 read and shadow_compare records take at least the delay; without it far less', () => {
  for (const mode of [1, 2] as const) {
    const op = mode === 1 ? 'shadow_compare' : 'read';
    const keep = (r: FieldRecord): boolean => r.metadata_class === 'M6' && r.operation === op;
    const slow = recordDurations(open({ modes: { M1: 0, M6: mode, M11: 0 }, faults: { M6: { delay_ns: DELAY_NS } } }), 'M6', keep);
    const fast = recordDurations(open({ modes: { M1: 0, M6: mode, M11: 0 } }), 'M6', keep);
    assert.ok(slow.length >= 40 && fast.length >= 40, `too few M6 ${op} records: ${slow.length}, ${fast.length}`);
    assert.ok(median(slow) >= DELAY_MS, `M6 ${op} median ${median(slow)} ms < injected ${DELAY_MS} ms`);
    assert.ok(median(fast) < DELAY_MS / 2, `M6 ${op} median ${median(fast)} ms without a delay`);
  }
});

test('M11 delay_ns: M11 records take at least the delay; without it far less', () => {
  for (const mode of [0, 1, 2] as const) {
    const keep = (): boolean => true;
    const slow = recordDurations(open({ modes: { M1: 0, M6: 0, M11: mode }, faults: { M11: { delay_ns: DELAY_NS } } }), 'M11', keep);
    const fast = recordDurations(open({ modes: { M1: 0, M6: 0, M11: mode } }), 'M11', keep);
    assert.ok(slow.length >= 40 && fast.length >= 40, `too few M11 records: ${slow.length}, ${fast.length}`);
    assert.ok(median(slow) >= DELAY_MS, `M11 (mode ${mode}) median ${median(slow)} ms < injected ${DELAY_MS} ms`);
    assert.ok(median(fast) < DELAY_MS / 2, `M11 (mode ${mode}) median ${median(fast)} ms without a delay`);
  }
});

test('describe() echoes the faults and flags fault injection', () => {
  const faults = { M6: { delay_ns: DELAY_NS, stale_publish: 0.5 }, M11: { delay_ns: DELAY_NS, misroute: 0.3 }, M1: { torn_read: 0.2 } };
  const d = open({ faults }).describe();
  assert.equal(d.faults, faults);
  assert.is(d.fault_injection_active, true);
  const clean = open({}).describe();
  assert.equal(clean.faults, {});
  assert.is(clean.fault_injection_active, false);
  // A fault on the wrong class is refused, not silently ignored.
  assert.throws(
    () => open({ faults: { M6: { misroute: 0.1 } } }),
    (e: unknown) => e instanceof EngineError && e.code === 'config',
  );
});

test.run();
