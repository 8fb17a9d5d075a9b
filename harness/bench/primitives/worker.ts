// Worker thread of the primitives bench: waits for tasks, runs each on its own
// connection to the task's shared database, and posts back what it measured.
// Loaded through harness/runtime/ts-worker.mjs (tsx in this thread).

import { parentPort } from 'node:worker_threads';
import { connect, isRetryable, type Connection, type TxnKind } from '../../../engine/index.ts';
import { SYNC, SYNC_TS_OFFSET, SYNC_TS_SLOTS, type ResultMsg, type TaskMsg } from './protocol.ts';

const UPDATE = 'UPDATE ? SET balance = balance + 1';
const SELECT = 'SELECT balance FROM ?';
/** 256 distinct statement texts: twice the M12 LRU capacity, so every exec misses. */
const MISS_TEXTS = Array.from({ length: 256 }, (_, k) => `SELECT balance FROM ${1 + k}`);
const BATCH = 16;
const BARRIER_TIMEOUT_MS = 30_000;

const hrNs = (): number => Number(process.hrtime.bigint());

interface Run {
  conn: Connection;
  task: TaskMsg;
  sync: Int32Array;
  result: ResultMsg;
  page: number;
  /** false during warm-up: nothing is recorded and the stop flag is ignored. */
  record: boolean;
}

const nap = new Int32Array(new SharedArrayBuffer(4));
const MAX_ATTEMPTS = 64;

/**
 * A write transaction of one UPDATE on this thread's own page. A retryable
 * error (busy, write_conflict) is counted and retried after a short
 * exponential backoff, like a client would; the op's time includes it.
 */
function writeTxn(r: Run, kind: TxnKind | 'auto'): void {
  const { conn } = r;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      if (kind === 'auto') {
        conn.exec(UPDATE, [r.page]);
        return;
      }
      conn.begin(kind);
      conn.exec(UPDATE, [r.page]);
      conn.commit();
      return;
    } catch (err) {
      if (conn.inTransaction) conn.rollback();
      if (!isRetryable(err)) throw err;
      count(r, err.code);
      Atomics.wait(nap, 0, 0, Math.min(1, 0.005 * 2 ** attempt));
    }
  }
  count(r, 'gave_up');
}

function count(r: Run, code: string): void {
  r.result.retries[code] = (r.result.retries[code] ?? 0) + 1;
}

const stopped = (r: Run): boolean => r.record && Atomics.load(r.sync, SYNC.STOP) === 1;

/**
 * Runs `op` in timed batches until this thread has run for `windowMs` or
 * another thread closed the window. With `readsPerWrite` > 0, a write txn
 * follows every `readsPerWrite` ops and is timed separately.
 */
function loop(r: Run, windowMs: number, op: () => void, readsPerWrite = 0): void {
  const batch = readsPerWrite > 0 ? readsPerWrite : BATCH;
  const end = performance.now() + windowMs;
  let n = 0;
  let ms = 0;
  let writes = 0;
  let writeMs = 0;
  while (!stopped(r) && performance.now() < end) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) op();
    const t1 = performance.now();
    ms += t1 - t0;
    n += batch;
    if (readsPerWrite > 0) {
      writeTxn(r, 'auto');
      writeMs += performance.now() - t1;
      writes++;
    }
  }
  if (!r.record) return;
  Atomics.store(r.sync, SYNC.STOP, 1);
  Object.assign(r.result, { ops: n, ns: ms * 1e6, writeOps: writes, writeNs: writeMs * 1e6 });
}

/** m1-wait: thread 0 commits on a fixed interval until every waiter is done; the others wait for the next seq. */
function waitPhase(r: Run, waits: number, phase: number): void {
  const { conn, task, sync } = r;
  const ts = new Float64Array(task.sync, SYNC_TS_OFFSET, SYNC_TS_SLOTS);
  const waiters = task.threads - 1;
  if (task.index === 0) {
    const intervalMs = task.intervalUs / 1000;
    const deadline = performance.now() + BARRIER_TIMEOUT_MS;
    let next = performance.now();
    while (Atomics.load(sync, SYNC.WAITERS_DONE) < waiters * (phase + 1) && performance.now() < deadline) {
      while (performance.now() < next) {
        /* spin to the next commit time */
      }
      ts[(conn.visibleCommitSeq() + 1) % SYNC_TS_SLOTS] = hrNs(); // the only writer: the next seq is ours
      writeTxn(r, 'auto');
      next = Math.max(next + intervalMs, performance.now());
    }
    return;
  }
  for (let i = 0; i < waits; i++) {
    const seq = conn.visibleCommitSeq() + 1;
    const t0 = performance.now();
    const reached = conn.waitForCommit(seq, 200);
    const t1 = performance.now();
    const woke = hrNs();
    if (!reached) count(r, 'timeout');
    else if (r.record) {
      r.result.waitNs.push((t1 - t0) * 1e6);
      r.result.lagNs.push(woke - ts[seq % SYNC_TS_SLOTS]!);
    }
  }
  Atomics.add(sync, SYNC.WAITERS_DONE, 1);
}

/** Phase 0 is the warm-up, phase 1 the measured window. */
function body(r: Run, phase: 0 | 1): void {
  const { conn, task } = r;
  const page = r.page;
  const ms = phase === 0 ? task.warmupMs : task.windowMs;
  switch (task.op) {
    case 'm6-read':
      return loop(
        r,
        ms,
        () => {
          conn.begin('read');
          conn.rollback();
        },
        task.readsPerWrite,
      );
    case 'm1-read':
      return loop(r, ms, () => void conn.visibleCommitSeq(), task.readsPerWrite);
    case 'txn-commit':
      return loop(r, ms, () => writeTxn(r, 'concurrent'));
    case 'm11-alternating': {
      let k = 0;
      return loop(r, ms, () => writeTxn(r, (k++ & 1) === 0 ? 'concurrent' : 'write'));
    }
    case 'm4-reuse':
      return loop(r, ms, () => {
        conn.begin('read');
        conn.commit();
      });
    case 'm5-reuse':
      return loop(r, ms, () => writeTxn(r, 'auto'));
    case 'm12-hit':
      return loop(r, ms, () => void conn.exec(SELECT, [page]));
    case 'm12-miss': {
      let k = 0;
      return loop(r, ms, () => void conn.exec(MISS_TEXTS[k++ & 255]!));
    }
    case 'm1-wait':
      return waitPhase(r, phase === 0 ? Math.ceil(task.waits / 4) : task.waits, phase);
  }
}

/** Every thread arrives; the last one wakes the rest. */
function barrier(sync: Int32Array, threads: number): void {
  const arrived = Atomics.add(sync, SYNC.READY, 1) + 1;
  if (arrived >= threads) {
    Atomics.notify(sync, SYNC.READY);
    return;
  }
  const deadline = performance.now() + BARRIER_TIMEOUT_MS;
  for (let seen = arrived; seen < threads && performance.now() < deadline; seen = Atomics.load(sync, SYNC.READY)) {
    Atomics.wait(sync, SYNC.READY, seen, 50);
  }
}

function runTask(task: TaskMsg): ResultMsg {
  const result: ResultMsg = {
    type: 'result',
    id: task.id,
    index: task.index,
    ops: 0,
    ns: 0,
    writeOps: 0,
    writeNs: 0,
    waitNs: [],
    lagNs: [],
    retries: {},
    error: null,
  };
  const sync = new Int32Array(task.sync, 0, SYNC_TS_OFFSET / 4);
  let conn: Connection | null = null;
  let arrived = false;
  try {
    conn = connect(task.shared);
    const r: Run = { conn, task, sync, result, page: 1 + task.index, record: false };
    body(r, 0);
    arrived = true;
    barrier(sync, task.threads);
    r.record = true;
    body(r, 1);
  } catch (err) {
    result.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    Atomics.store(sync, SYNC.STOP, 1);
    Atomics.add(sync, SYNC.WAITERS_DONE, 2 * task.threads); // release a committer
    if (!arrived) barrier(sync, task.threads);
  } finally {
    conn?.close();
  }
  return result;
}

const port = parentPort;
if (port === null) throw new Error('the primitives worker must run in a worker thread');
port.on('message', (task: TaskMsg) => port.postMessage(runTask(task)));
