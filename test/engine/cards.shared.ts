// Shared between cards.test.ts and cards.worker.ts: the layout of the
// coordination buffer, the worker roles and what each reports, and a
// barrier. Not a test file (uvu only picks up *.test.ts).

import type { SharedDatabase } from '../../engine/index.ts';

/** Int32 words of the coordination SharedArrayBuffer. */
export const F = {
  /** Workers that reached their start point. */
  STARTED: 0,
  /** Workers that finished their main action. */
  DONE: 1,
  /** Set to 1 when the writer worker has made all its commits. */
  WRITER_DONE: 2,
  BARRIER_COUNT: 3,
  BARRIER_GEN: 4,
  /** CAS race: first word of the per-round win counters. */
  WINS: 16,
} as const;

export const newFlags = (rounds = 0): SharedArrayBuffer => new SharedArrayBuffer((F.WINS + rounds) * 4);

export type Role =
  /** M6: begin('read') + SELECT page 1 + commit, with DONE raised when it returns. */
  | { role: 'm6-read' }
  /** Commits i = 1..commits, each writing page i (balance = i): db_size = commit_seq + 1. */
  | { role: 'grow-writer'; commits: number; parties: number }
  /** M6: read transactions until WRITER_DONE, checking the bound snapshot's coherence. */
  | { role: 'm6-reader'; parties: number }
  /** M1: seqlock reads until WRITER_DONE, through the connection and a bare M1 instance. */
  | { role: 'm1-reader'; parties: number }
  /** M1: one waitForCommit(target, timeoutMs). */
  | { role: 'm1-wait'; target: number; timeoutMs: number }
  /** M11: concurrent write transactions, committed or rolled back, checking registration. */
  | { role: 'm11-txn'; txns: number }
  /** Page-lock CAS race on one page, `rounds` rounds between `parties` workers. */
  | { role: 'cas-race'; rounds: number; page: number; parties: number }
  /** shardOf() of ids 1..ids for each shard count. */
  | { role: 'shard'; ids: number; shards: number[] };

export type WorkerInput = Role & { shared: SharedDatabase; flags: SharedArrayBuffer; index: number };

export interface M6ReadResult {
  role: 'm6-read';
  value: number;
  seq: number;
  modes: string[];
}
export interface GrowWriterResult {
  role: 'grow-writer';
  commits: number;
  lastSeq: number;
}
export interface M6ReaderResult {
  role: 'm6-reader';
  txns: number;
  violations: string[];
  verdicts: Record<string, number>;
  operations: Record<string, number>;
  maxSeq: number;
}
export interface M1ReaderResult {
  role: 'm1-reader';
  reads: number;
  records: number;
  torn: number;
  maxRetries: number;
  nonMonotone: number;
  /** Bare summaries whose fields did not belong together (db_size !== sequence_value + 1). */
  incoherent: number;
  maxSeq: number;
  verdicts: Record<string, number>;
}
export interface M1WaitResult {
  role: 'm1-wait';
  reached: boolean;
  elapsedMs: number;
  visibleAfter: number;
}
export interface M11TxnResult {
  role: 'm11-txn';
  begins: number;
  commits: number;
  aborts: number;
  retries: number;
  checks: number;
  violations: string[];
  shardsSeen: number[];
  notFound: number;
  diverged: number;
}
export interface CasRaceResult {
  role: 'cas-race';
  wins: number;
  violations: string[];
}
export interface ShardResult {
  role: 'shard';
  table: Record<string, number[]>;
}
export type WorkerResult = M6ReadResult | GrowWriterResult | M6ReaderResult | M1ReaderResult | M1WaitResult | M11TxnResult | CasRaceResult | ShardResult;

/** A reusable generation barrier over F.BARRIER_COUNT / F.BARRIER_GEN. */
export function barrier(w: Int32Array, parties: number): void {
  const gen = Atomics.load(w, F.BARRIER_GEN);
  if (Atomics.add(w, F.BARRIER_COUNT, 1) === parties - 1) {
    Atomics.store(w, F.BARRIER_COUNT, 0);
    Atomics.add(w, F.BARRIER_GEN, 1);
    Atomics.notify(w, F.BARRIER_GEN);
    return;
  }
  const deadline = Date.now() + 30_000;
  while (Atomics.load(w, F.BARRIER_GEN) === gen) {
    if (Date.now() > deadline) throw new Error('barrier timed out');
    Atomics.wait(w, F.BARRIER_GEN, gen, 100);
  }
}
