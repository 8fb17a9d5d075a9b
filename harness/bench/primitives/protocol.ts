// Messages between the primitives bench (main thread) and its worker threads.

import type { SharedDatabase } from '../../../engine/index.ts';

/**
 * One measured operation. Every op runs on its own connection per thread;
 * threads write only their own page (1 + thread index), so nothing conflicts.
 */
export type OpKind =
  | 'm6-read' // read txn begin+rollback (M6 bind + release), every Nth op a 1-UPDATE write txn (timed apart)
  | 'txn-commit' // begin('concurrent') + 1 UPDATE + commit (file backend: M5 never retains, so M11 begin/lookup/end every op)
  | 'm11-alternating' // begin(concurrent|write, alternating) + 1 UPDATE + commit: the kind change defeats M5 retention
  | 'm1-read' // visibleCommitSeq() (seqlock read), every Nth op a 1-UPDATE write txn (timed apart)
  | 'm1-wait' // thread 0 commits every intervalUs; the others waitForCommit(seq + 1)
  | 'm4-reuse' // read txn begin+commit with no commits anywhere: the parked snapshot is reused
  | 'm5-reuse' // autocommit UPDATE by one connection: the retained write txn is reused
  | 'm12-hit' // autocommit exec('SELECT balance FROM ?', [page]): parse + compile cache hit
  | 'm12-miss'; // autocommit SELECT over 256 distinct statement texts (LRU holds 128): parse + compile miss

export interface TaskMsg {
  type: 'task';
  id: number;
  op: OpKind;
  shared: SharedDatabase;
  threads: number;
  index: number;
  /** Warm-up time per thread (not recorded). */
  warmupMs: number;
  /** Measured window: it closes when the first thread has run this long. */
  windowMs: number;
  /** For m1-wait: waits per waiter in the measured phase (a quarter of it in warm-up). */
  waits: number;
  /** For m6-read / m1-read: one write txn after this many reads. */
  readsPerWrite: number;
  /** For m1-wait: the committer's interval. */
  intervalUs: number;
  /** Int32 words: SYNC.*; then (as Float64 from byte offset SYNC_TS_OFFSET) commit timestamps by seq. */
  sync: SharedArrayBuffer;
}

export const SYNC = { READY: 0, STOP: 1, WAITERS_DONE: 2 } as const;
export const SYNC_TS_OFFSET = 64;
export const SYNC_TS_SLOTS = 4096;
export const SYNC_BYTES = SYNC_TS_OFFSET + SYNC_TS_SLOTS * Float64Array.BYTES_PER_ELEMENT;

export interface ResultMsg {
  type: 'result';
  id: number;
  index: number;
  /** The primary op: count and total ns on this thread. */
  ops: number;
  ns: number;
  /** The secondary op (the write txns mixed into read ops): count and total ns. */
  writeOps: number;
  writeNs: number;
  /** m1-wait: ns per wait, and publish->wake lag per wait (ns from the start of the commit). */
  waitNs: number[];
  lagNs: number[];
  /** Retryable engine errors met, by code (busy, write_conflict, ...); `timeout` for a wait that timed out. */
  retries: Record<string, number>;
  error: string | null;
}
