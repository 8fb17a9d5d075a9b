// Executes one workload operation on a connection, retrying retryable
// engine errors up to the spec's bound. The operation is the unit of latency.

import { isEngineError, isRetryable } from '../../engine/index.ts';
import type { EngineConnection } from '../engines/connection.ts';
import type { Op } from '../ops/stream.ts';
import type { WorkloadSpec } from '../spec/schema.ts';

export interface OpOutcome {
  /** The error code of the last attempt when the operation finally failed, else null. */
  error: string | null;
  retries: number;
}

/** Backoff between retries: 20 µs doubling to 1 ms, so `max_retries` spans time, not just attempts. */
const BACKOFF_START_MS = 0.02;
const BACKOFF_MAX_MS = 1;

export class Driver {
  /** Whether this connection's own DDL column currently exists. */
  private ownColumn = false;
  private readonly nap = new Int32Array(new SharedArrayBuffer(4));
  constructor(
    private readonly conn: EngineConnection,
    private readonly spec: WorkloadSpec,
    private readonly connection: number,
    private readonly onAttemptError: (code: string) => void,
  ) {}

  execute(op: Op): OpOutcome {
    const max = this.spec.transaction.max_retries;
    for (let attempt = 0; ; attempt++) {
      try {
        this.attempt(op);
        return { error: null, retries: attempt };
      } catch (err) {
        if (this.conn.inTransaction) this.conn.rollback();
        // session_not_found is the M11 card's symptom; a new session may well be routed right. isEngineError, not
        // instanceof: a frozen build (the twin arm) throws its own EngineError class.
        if (!isEngineError(err) || !(err.code === 'session_not_found' || isRetryable(err))) throw err;
        this.onAttemptError(err.code);
        if (attempt >= max) return { error: err.code, retries: attempt };
        Atomics.wait(this.nap, 0, 0, Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** attempt));
      }
    }
  }

  private attempt(op: Op): void {
    const c = this.conn;
    switch (op.kind) {
      case 'read':
        c.begin('read');
        for (const k of op.keys) c.exec('SELECT balance FROM ?', [k]);
        c.commit();
        return;
      case 'write':
      case 'concurrent_write':
        c.begin(op.kind === 'write' ? 'write' : 'concurrent');
        for (let i = 0; i < op.keys.length; i++) c.exec('UPDATE ? SET balance = balance + ?', [op.keys[i]!, op.deltas[i]!]);
        c.commit();
        return;
      case 'ddl': {
        // Each connection toggles a column of its own, so DDLs of different
        // connections conflict only on the schema page, never on names.
        const column = `ddl_c${this.connection}`;
        c.schemaChange(`ALTER ${this.ownColumn ? 'DROP' : 'ADD'} COLUMN ${column}`);
        this.ownColumn = !this.ownColumn;
        return;
      }
      case 'checkpoint':
        c.checkpoint();
        return;
      case 'prepare':
        // Literal keys make distinct statement texts: parse and compile caches see misses and hits.
        c.prepare(`SELECT balance FROM ${op.keys[0]!}`).run();
        return;
      case 'wait':
        c.waitForCommit(c.visibleCommitSeq() + 1, this.spec.wait_timeout_ms);
        return;
    }
  }
}
