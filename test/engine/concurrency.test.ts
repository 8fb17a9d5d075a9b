// Multi-thread correctness of the engine under each control-mode set
// (legacy, shadow_compare, new primitive) and backend: bank transfers keep
// their invariants, readers never see a partial commit, acknowledged
// commits are never lost, and a forced fallback to legacy mid-run keeps all
// of that true.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDatabase, SWITCHABLE_CLASSES, NEW_MODE, type Backend, type Database, type ModeIndex, type SwitchableClass } from '../../engine/index.ts';
import { CTL, M6, SNAP, REG, NO_HORIZON, registryTableWords, ringSize, horizonIndex } from '../../engine/shared/layout.ts';
import { runWorkers } from '../support/workers.ts';
import { ACCOUNTS, INITIAL_BALANCE, COUNTER_FIRST, COUNTER_LAST, type BankResult, type WalRaceResult } from './concurrency.worker.ts';

const WORKER = new URL('./concurrency.worker.ts', import.meta.url);
const WORKERS = 4;
const ATTEMPTS = 1000;
const MODE_NAME = ['legacy', 'shadow_compare', 'new'] as const;

const tmpDirs: string[] = [];

function open(backend: Backend, mode: ModeIndex, seed: number): Database {
  let file: string | null = null;
  if (backend === 'file') {
    const dir = fs.mkdtempSync(os.tmpdir() + '/sb-');
    tmpDirs.push(dir);
    file = path.join(dir, 'bank.db');
  }
  return openDatabase({
    backend,
    path: file,
    columns: ['balance'],
    pageSize: 512,
    pageCount: 64,
    modes: { M1: mode, M6: mode, M11: mode },
    fsync: 'normal',
    seed,
  });
}

function reopen(db: Database): Database {
  const c = db.config;
  return openDatabase({
    backend: c.backend,
    path: c.path,
    columns: c.columns,
    pageSize: c.pageSize,
    pageCount: c.pageCount,
    modes: c.modes,
    fsync: c.fsync,
    seed: c.seed,
  });
}

/** Accounts 1..20 at 1000 each, counter pages 30..37 at 0, in one transaction. */
function seedAccounts(db: Database): void {
  const conn = db.connect();
  conn.begin('write');
  for (let p = 1; p <= ACCOUNTS; p++) conn.exec('UPDATE ? SET balance = ?', [p, INITIAL_BALANCE]);
  for (let p = COUNTER_FIRST; p <= COUNTER_LAST; p++) conn.exec('UPDATE ? SET balance = ?', [p, 0]);
  conn.commit();
  conn.close();
}

function readPages(db: Database, first: number, last: number): number[] {
  const conn = db.connect();
  conn.begin('read');
  const out: number[] = [];
  for (let p = first; p <= last; p++) out.push(conn.exec('SELECT balance FROM ?', [p]));
  conn.commit();
  conn.close();
  return out;
}

/**
 * Everything the workers held is released once every connection has closed:
 * no registry session in the global table or any shard, no page lock, no
 * writer lock, no connection slot, no read horizon, no held M6 snapshot.
 */
function assertQuiescent(db: Database, label: string): void {
  const c = db.config;
  const reg = new Int32Array(db.shared.registry);
  const stride = registryTableWords(c);
  for (let t = 0; t <= c.registryShards; t++) {
    const base = REG.TABLES + t * stride;
    assert.is(reg[base + REG.COUNT], 0, `${label}: registry table ${t} still counts sessions`);
    const ids: number[] = [];
    for (let i = 0; i < c.maxConnections; i++) {
      const id = reg[base + REG.HEADER + i * REG.ENTRY + REG.SESSION_ID] ?? 0;
      if (id !== 0) ids.push(id);
    }
    assert.equal(ids, [], `${label}: registry table ${t} still holds sessions`);
  }
  const locks = new Int32Array(db.shared.pageLocks);
  const held = [...locks.keys()].filter((p) => locks[p] !== 0);
  assert.equal(held, [], `${label}: page locks still held`);
  const ctl = new Int32Array(db.shared.ctl);
  assert.is(ctl[CTL.WRITER_LOCK], 0, `${label}: writer lock still held`);
  for (let s = 0; s < c.maxConnections; s++) {
    assert.is(ctl[CTL.SLOTS + s], 0, `${label}: connection slot ${s} not released`);
    assert.is(ctl[horizonIndex(c, s)], NO_HORIZON, `${label}: read horizon of slot ${s} not cleared`);
  }
  const m6 = new Int32Array(db.shared.m6);
  for (let s = 0; s < ringSize(c); s++) {
    assert.is(m6[M6.RING + s * M6.RING_STRIDE + SNAP.REFCOUNT], 0, `${label}: M6 snapshot ring slot ${s} still referenced`);
  }
}

interface RunOptions {
  backend: Backend;
  mode: ModeIndex;
  seed: number;
  hook?: boolean;
  /** Called once, from the main thread, after this many attempts were made in total. */
  midRun?: { afterAttempts: number; action: (db: Database) => void };
}

interface RunOutcome {
  db: Database;
  results: BankResult[];
  attemptsAtAction: number | null;
}

async function bankRun(o: RunOptions): Promise<RunOutcome> {
  const db = open(o.backend, o.mode, o.seed);
  seedAccounts(db);
  const progressBuf = new SharedArrayBuffer(4);
  const progress = new Int32Array(progressBuf);
  let finished = false;
  const running = runWorkers<BankResult>(WORKER, WORKERS, {
    shared: db.shared,
    attempts: ATTEMPTS,
    seed: o.seed,
    progress: progressBuf,
    hook: o.hook === true,
    checkpointEvery: o.backend === 'file' ? 300 : 0,
  }).finally(() => {
    finished = true;
  });
  let attemptsAtAction: number | null = null;
  if (o.midRun !== undefined) {
    const { afterAttempts, action } = o.midRun;
    while (!finished && Atomics.load(progress, 0) < afterAttempts) await new Promise((r) => setTimeout(r, 2));
    attemptsAtAction = Atomics.load(progress, 0);
    action(db);
  }
  const { results, errors } = await running;
  assert.equal(
    errors.map((e) => e.stack ?? e.message),
    [],
    'worker threads threw',
  );
  assert.is(results.length, WORKERS, 'every worker reported');
  return { db, results, attemptsAtAction };
}

/** The invariants every run must keep, whatever the modes did. */
function checkInvariants(label: string, { db, results }: RunOutcome): void {
  const violations = results.flatMap((r) => r.violations);
  assert.equal(violations, [], `${label}: invariant violations seen by workers`);
  for (const r of results) {
    assert.ok(r.transferCommits > 0, `${label}: worker ${r.index} acknowledged no transfer (retries ${JSON.stringify(r.retries)})`);
    assert.ok(r.counterCommits > 0, `${label}: worker ${r.index} acknowledged no counter commit`);
    assert.ok(r.readChecks > 0, `${label}: worker ${r.index} made no read check`);
  }

  // No lost and no phantom update: every account is exactly 1000 plus the
  // acknowledged deltas of every worker.
  const balances = readPages(db, 1, ACCOUNTS);
  const expected = Array.from({ length: ACCOUNTS }, (_, i) => INITIAL_BALANCE + results.reduce((sum, r) => sum + (r.deltas[i + 1] ?? 0), 0));
  assert.equal(balances, expected, `${label}: final balances differ from 1000 + acknowledged deltas`);
  assert.is(
    balances.reduce((a, b) => a + b, 0),
    ACCOUNTS * INITIAL_BALANCE,
    `${label}: total balance changed`,
  );

  // Each acknowledged counter commit incremented the counter by exactly one
  // from the value its snapshot saw, so the final value counts them all.
  const counter = readPages(db, COUNTER_FIRST, COUNTER_LAST);
  const acked = results.reduce((sum, r) => sum + r.counterCommits, 0);
  assert.equal(
    counter,
    new Array<number>(COUNTER_LAST - COUNTER_FIRST + 1).fill(acked),
    `${label}: counter pages do not all equal the ${acked} acknowledged increments`,
  );

  // The committed state is what a fresh reader hashes, and nothing is left held.
  // A fresh connection can still commit, and a no-op change leaves the hash alone.
  const conn = db.connect();
  const hash = conn.stateHash();
  assert.match(hash, /^[0-9a-f]{64}$/);
  conn.begin('concurrent');
  conn.exec('UPDATE ? SET balance = balance + 0', [1]);
  conn.commit();
  assert.is(conn.stateHash(), hash, `${label}: a no-op commit changed the state hash`);
  conn.close();
  assertQuiescent(db, label);

  if (db.config.backend === 'file') {
    // Durability: recovery from the files reproduces the same state.
    const again = reopen(db);
    const c2 = again.connect();
    const hash2 = c2.stateHash();
    c2.close();
    assert.is(again.recovery?.reject_reason ?? null, null, `${label}: recovery rejected part of the WAL`);
    assert.is(hash2, hash, `${label}: recovered state differs from the live one`);
  }
}

function mergeCounts(results: BankResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.modeCounts)) out[k] = (out[k] ?? 0) + v;
  return out;
}

let seed = 11;
for (const mode of [0, 1, 2] as const) {
  for (const backend of ['memory', 'file'] as const) {
    const label = `modes=${MODE_NAME[mode]} backend=${backend}`;
    const runSeed = seed++;
    test(`bank transfers and atomic multi-page reads, 4 workers, ${label}`, async () => {
      const outcome = await bankRun({ backend, mode, seed: runSeed });
      checkInvariants(label, outcome);
      const expectedModes = { M1: modeLabel('M1', mode), M6: modeLabel('M6', mode), M11: modeLabel('M11', mode) };
      assert.equal(outcome.db.modes(), expectedModes, `${label}: modes changed during the run`);
    });
  }
}

function modeLabel<C extends SwitchableClass>(cls: C, mode: ModeIndex): string {
  return mode === 0 ? 'legacy' : mode === 1 ? 'shadow_compare' : NEW_MODE[cls];
}

for (const [mode, backend] of [
  [2, 'file'],
  [1, 'memory'],
] as const) {
  const label = `forced fallback from ${MODE_NAME[mode]} to legacy mid-run, backend=${backend}`;
  const runSeed = seed++;
  test(label, async () => {
    const total = WORKERS * ATTEMPTS;
    const outcome = await bankRun({
      backend,
      mode,
      seed: runSeed,
      hook: true,
      midRun: {
        afterAttempts: Math.floor(total / 4),
        action: (db) => {
          db.forceLegacy('M6');
          db.forceLegacy('M1');
          db.forceLegacy('M11');
        },
      },
    });
    assert.ok(outcome.attemptsAtAction !== null && outcome.attemptsAtAction < total, `${label}: the fallback came after the workers finished`);
    assert.equal(outcome.db.modes(), { M1: 'legacy', M6: 'legacy', M11: 'legacy' });
    checkInvariants(label, outcome);
    const counts = mergeCounts(outcome.results);
    for (const cls of SWITCHABLE_CLASSES) {
      const before = `${cls}:${modeLabel(cls, mode)}`;
      const after = `${cls}:legacy`;
      assert.ok((counts[before] ?? 0) > 0, `${label}: no ${before} records before the switch (${JSON.stringify(counts)})`);
      assert.ok((counts[after] ?? 0) > 0, `${label}: no ${after} records after the switch (${JSON.stringify(counts)})`);
    }
  });
}

test('file backend: begin() never reports a corrupt WAL while another connection commits and checkpoints', async () => {
  // begin() refreshes the handle's WAL state (M7/M8) without the writer
  // lock, so it must cope with a commit or checkpoint running alongside.
  const dir = fs.mkdtempSync(os.tmpdir() + '/sb-');
  tmpDirs.push(dir);
  const db = openDatabase({
    backend: 'file',
    path: path.join(dir, 'race.db'),
    columns: ['balance'],
    pageSize: 512,
    pageCount: 64,
    fsync: 'normal',
    autoCheckpointFrames: 4,
    seed: 3,
  });
  const stop = new SharedArrayBuffer(8);
  const [writer, reader] = await Promise.all([
    runWorkers<WalRaceResult>(WORKER, 1, { shared: db.shared, stop, role: 'wal-writer', iterations: 0 }),
    runWorkers<WalRaceResult>(WORKER, 1, { shared: db.shared, stop, role: 'wal-reader', iterations: 5_000, minWriterCommits: 600 }),
  ]);
  assert.equal(
    [...writer.errors, ...reader.errors].map((e) => e.stack ?? e.message),
    [],
    'worker threads threw',
  );
  const w = writer.results[0];
  const r = reader.results[0];
  assert.ok(w !== undefined && r !== undefined, 'both workers reported');
  assert.ok(w.ops >= 600, `the writer barely committed (${w.ops})`);
  assert.equal(r.errors, {}, `begin() failed while the writer ran: ${JSON.stringify(r.firstMessage)}`);
  assert.is(r.leakedTransactions, 0, 'a failed begin() left its transaction open');
  assert.is(w.errors.corrupt ?? 0, 0, `the writer saw a corrupt WAL: ${JSON.stringify(w.firstMessage)}`);
  assertQuiescent(db, 'wal race');
});

test.after(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

test.run();
