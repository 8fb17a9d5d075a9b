// Worker for concurrency.test.ts: one connection per thread running bank
// transfers, multi-page counter commits and read-only invariant checks
// against a database opened in the main thread.

import { parentPort, workerData } from 'node:worker_threads';
import { connect, isRetryable, EngineError, type FieldRecord, type SharedDatabase, type TxnKind } from '../../engine/index.ts';
import { isObject, num } from '../support/worker-data.ts';

/** Pages 1..ACCOUNTS are accounts; COUNTER_FIRST..COUNTER_LAST always hold one shared counter value. */
export const ACCOUNTS = 20;
export const INITIAL_BALANCE = 1000;
export const COUNTER_FIRST = 30;
export const COUNTER_LAST = 37;

export interface BankParams {
  shared: SharedDatabase;
  /** Transaction attempts per worker (transfers + counter writes + read checks + checkpoints). */
  attempts: number;
  /** Seed of this run; each worker derives its own stream from it and its index. */
  seed: number;
  /** Int32 word 0: attempts made so far, summed over all workers (the main thread watches it). */
  progress: SharedArrayBuffer;
  /** Count control modes of M1/M6/M11 records. */
  hook: boolean;
  /** Checkpoint every this many attempts (worker 0 only, file backend); 0 = never. */
  checkpointEvery: number;
}

export interface BankResult {
  index: number;
  attempts: number;
  /** Transfers whose commit() returned. */
  transferCommits: number;
  /** Counter (pages 30..37) commits whose commit() returned. */
  counterCommits: number;
  /** Net balance change per account (index 1..ACCOUNTS) from acknowledged commits only. */
  deltas: number[];
  /** Retryable failures by error code. */
  retries: Record<string, number>;
  readChecks: number;
  checkpoints: number;
  /** Invariant violations seen from inside the worker; must stay empty. */
  violations: string[];
  /** `${class}:${control_mode}` -> record count (only when `hook`). */
  modeCounts: Record<string, number>;
}

function run(): BankResult {
  const data: unknown = workerData;
  if (!isObject(data) || !isObject(data.shared) || !(data.progress instanceof SharedArrayBuffer)) throw new Error('bad workerData');
  const index = num(data, 'index');
  const attempts = num(data, 'attempts');
  const checkpointEvery = num(data, 'checkpointEvery');
  const shared = data.shared as unknown as SharedDatabase;
  const progress = new Int32Array(data.progress);
  const modeCounts: Record<string, number> = {};
  const hook =
    data.hook === true
      ? (r: FieldRecord): void => {
          if (r.metadata_class === 'M1' || r.metadata_class === 'M6' || r.metadata_class === 'M11') {
            const k = `${r.metadata_class}:${r.control_mode}`;
            modeCounts[k] = (modeCounts[k] ?? 0) + 1;
          }
        }
      : null;

  // xorshift32, seeded per worker so a run is reproducible.
  let s = (num(data, 'seed') * 2654435761 + (index + 1) * 40503) | 0 || 1;
  const rand = (n: number): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };

  const result: BankResult = {
    index,
    attempts,
    transferCommits: 0,
    counterCommits: 0,
    deltas: new Array<number>(ACCOUNTS + 1).fill(0),
    retries: {},
    readChecks: 0,
    checkpoints: 0,
    violations: [],
    modeCounts,
  };
  const violation = (msg: string): void => {
    if (result.violations.length < 20) result.violations.push(`worker ${index}: ${msg}`);
  };
  const conn = connect(shared, { hook });
  /** The commit sequence of this worker's last acknowledged commit: later reads must see it. */
  let lastAck = 0;
  /** The counter value this worker last observed: it may never go backwards. */
  let lastCounter = 0;

  const fail = (err: unknown, what: string): void => {
    if (conn.inTransaction) conn.rollback();
    if (isRetryable(err)) {
      result.retries[err.code] = (result.retries[err.code] ?? 0) + 1;
    } else {
      const code = err instanceof EngineError ? err.code : 'non-engine';
      violation(`${what}: unexpected ${code} error: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const readCheck = (): void => {
    try {
      conn.begin('read');
      const seq = conn.snapshot.commit_seq;
      if (seq < lastAck) violation(`read snapshot ${seq} is older than this worker's acknowledged commit ${lastAck}`);
      const total = conn.exec('SELECT SUM(balance) FROM 1 TO 21');
      if (total !== ACCOUNTS * INITIAL_BALANCE) violation(`SUM(balance) over 1..21 = ${total} at snapshot ${seq}, expected ${ACCOUNTS * INITIAL_BALANCE}`);
      const values: number[] = [];
      for (let p = COUNTER_FIRST; p <= COUNTER_LAST; p++) values.push(conn.exec('SELECT balance FROM ?', [p]));
      const first = values[0] ?? 0;
      if (values.some((v) => v !== first))
        violation(`torn multi-page commit at snapshot ${seq}: pages ${COUNTER_FIRST}..${COUNTER_LAST} = ${values.join(',')}`);
      if (first < lastCounter) violation(`counter went backwards: ${lastCounter} -> ${first} at snapshot ${seq}`);
      lastCounter = Math.max(lastCounter, first);
      conn.commit();
      result.readChecks++;
    } catch (err) {
      fail(err, 'read check');
    }
  };

  const transfer = (kind: TxnKind): void => {
    const from = 1 + rand(ACCOUNTS);
    const to = 1 + ((from - 1 + 1 + rand(ACCOUNTS - 1)) % ACCOUNTS);
    const amount = 1 + rand(100);
    try {
      conn.begin(kind);
      conn.exec('UPDATE ? SET balance = balance - ?', [from, amount]);
      conn.exec('UPDATE ? SET balance = balance + ?', [to, amount]);
      const seq = conn.commit();
      result.transferCommits++;
      result.deltas[from]! -= amount;
      result.deltas[to]! += amount;
      lastAck = seq;
    } catch (err) {
      fail(err, 'transfer');
    }
  };

  const bumpCounter = (kind: TxnKind): void => {
    try {
      conn.begin(kind);
      const next = conn.exec('SELECT balance FROM ?', [COUNTER_FIRST]) + 1;
      for (let p = COUNTER_FIRST; p <= COUNTER_LAST; p++) conn.exec('UPDATE ? SET balance = ?', [p, next]);
      const seq = conn.commit();
      result.counterCommits++;
      lastAck = seq;
    } catch (err) {
      fail(err, 'counter');
    }
  };

  for (let i = 0; i < attempts; i++) {
    Atomics.add(progress, 0, 1);
    const kind: TxnKind = rand(5) === 0 ? 'write' : 'concurrent';
    if (checkpointEvery > 0 && index === 0 && i % checkpointEvery === checkpointEvery - 1) {
      try {
        conn.checkpoint();
        result.checkpoints++;
      } catch (err) {
        fail(err, 'checkpoint');
      }
    } else if (i % 20 === 10) readCheck();
    else if (i % 10 === 5) bumpCounter(kind);
    else transfer(kind);
  }
  readCheck();
  conn.close();
  return result;
}

export interface WalRaceResult {
  index: number;
  role: 'wal-writer' | 'wal-reader';
  ops: number;
  /** Errors by EngineError code. */
  errors: Record<string, number>;
  /** The first message of each code, for the report. */
  firstMessage: Record<string, string>;
  /** begin() threw and still left a transaction open. */
  leakedTransactions: number;
}

/**
 * File backend: one writer commits continuously (auto-checkpointing often)
 * until the reader is done; the reader only begins and ends transactions.
 * `stop` (Int32): word 0 is set by the reader when it finishes; word 1
 * counts the writer's commits.
 */
function walRace(): WalRaceResult {
  const data: unknown = workerData;
  if (!isObject(data) || !isObject(data.shared) || !(data.stop instanceof SharedArrayBuffer)) throw new Error('bad workerData');
  const role = data.role === 'wal-writer' ? 'wal-writer' : 'wal-reader';
  const index = num(data, 'index');
  const iterations = num(data, 'iterations');
  const stop = new Int32Array(data.stop);
  const conn = connect(data.shared as unknown as SharedDatabase);
  const out: WalRaceResult = { index, role, ops: 0, errors: {}, firstMessage: {}, leakedTransactions: 0 };
  const deadline = performance.now() + 10_000;
  // The reader starts once the writer has committed, so the two overlap.
  if (role === 'wal-reader') while (Atomics.load(stop, 1) === 0 && performance.now() < deadline) Atomics.wait(stop, 1, 0, 5);
  const minWriterCommits = role === 'wal-reader' ? num(data, 'minWriterCommits') : 0;
  const startCommits = Atomics.load(stop, 1);
  for (let i = 0; performance.now() < deadline; i++) {
    if (role === 'wal-reader' ? i >= iterations && Atomics.load(stop, 1) - startCommits >= minWriterCommits : Atomics.load(stop, 0) !== 0) break;
    let begun = false;
    try {
      if (role === 'wal-writer') {
        conn.exec('UPDATE ? SET balance = balance + 1', [1 + (i % 8)]);
        Atomics.add(stop, 1, 1);
      } else {
        conn.begin(i % 4 === 3 ? 'concurrent' : 'read');
        begun = true;
        conn.commit();
      }
      out.ops++;
    } catch (err) {
      const code = err instanceof EngineError ? err.code : 'non-engine';
      out.errors[code] = (out.errors[code] ?? 0) + 1;
      out.firstMessage[code] ??= err instanceof Error ? err.message : String(err);
      if (!begun && conn.inTransaction) out.leakedTransactions++;
      if (conn.inTransaction) conn.rollback();
    }
  }
  if (role === 'wal-reader') Atomics.store(stop, 0, 1);
  conn.close();
  return out;
}

parentPort?.postMessage(isObject(workerData) && (workerData.role === 'wal-writer' || workerData.role === 'wal-reader') ? walRace() : run());
