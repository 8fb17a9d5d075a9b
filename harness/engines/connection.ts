// What the Driver needs of a connection, and how a worker gets one. The
// reference engine's Connection satisfies EngineConnection as it is (no
// wrapper on its hot path); comparator engines translate the same calls.

import type { RecordSink, SharedDatabase, TxnKind } from '../../engine/index.ts';
import type { ExternalHandle } from './external/handle.ts';
import type { SqliteHandle } from './sqlite/handle.ts';

/**
 * Statements arrive in the engine's small dialect: `SELECT balance FROM ?`
 * and `UPDATE ? SET balance = balance + ?` (the row key first), DDL as
 * `ALTER ADD|DROP COLUMN name`, prepared reads as `SELECT balance FROM <key>`.
 * Retryable failures throw EngineError `busy`, `write_conflict` or `schema_changed`.
 */
export interface EngineConnection {
  readonly inTransaction: boolean;
  begin(kind: TxnKind): void;
  exec(sql: string, params: readonly number[]): number;
  commit(): void;
  rollback(): void;
  schemaChange(ddl: string): void;
  checkpoint(): void;
  prepare(sql: string): { run(): number };
  /** True when a commit at or past `seq` became visible within the timeout. */
  waitForCommit(seq: number, timeoutMs: number): boolean;
  visibleCommitSeq(): number;
  close(): void;
}

/** Structured-clone friendly: what the round hands each worker to connect with. */
export type EngineHandle = ReferenceHandle | SqliteHandle | ExternalHandle;

/** The reference engine's database; `build`: the frozen build's file that made it (absent: this checkout's engine). */
export interface ReferenceHandle {
  variant: 'reference';
  shared: SharedDatabase;
  build?: string;
}

/** Where a connection reports: card field records, and the engine's own counters. */
export interface ConnectionSinks {
  /** Where card field records go, as numeric rows (engine/records); null: field records off. */
  rows: RecordSink | null;
  count: (key: string, n?: number) => void;
}
