// A SQLite connection (better-sqlite3) speaking the Driver's interface.
// read: BEGIN DEFERRED; write and concurrent_write: BEGIN IMMEDIATE (stock
// SQLite has no BEGIN CONCURRENT); ddl: ALTER TABLE in autocommit;
// checkpoint: PRAGMA wal_checkpoint(PASSIVE); wait: polls PRAGMA
// data_version, SQLite's only cross-connection change signal.

import Database, { type Statement } from 'better-sqlite3';
import { EngineError, type TxnKind } from '../../../engine/index.ts';
import type { ConnectionSinks, EngineConnection } from '../connection.ts';
import { engineError } from './errors.ts';
import { TABLE, type SqliteHandle } from './handle.ts';

const SELECT = 'SELECT balance FROM ?';
const UPDATE = 'UPDATE ? SET balance = balance + ?';
const DDL = /^ALTER (ADD|DROP) COLUMN ([a-z_][a-z0-9_]*)$/;
const PREPARED_READ = /^SELECT balance FROM (\d+)$/;
/** Between data_version polls of a wait: short against the workloads' 2–5 ms wait timeouts. */
const POLL_NAP_MS = 0.05;

export class SqliteConnection implements EngineConnection {
  private readonly db: Database.Database;
  private readonly select: Statement<[number], number>;
  private readonly update: Statement<[number, number]>;
  private readonly beginRead: Statement;
  private readonly beginWrite: Statement;
  private readonly commitStmt: Statement;
  private readonly dataVersion: Statement<[], number>;
  private readonly nap = new Int32Array(new SharedArrayBuffer(4));
  private writing = false;

  constructor(
    h: SqliteHandle,
    private readonly sinks: ConnectionSinks,
  ) {
    try {
      this.db = new Database(h.path, { timeout: h.busy_timeout_ms, fileMustExist: true });
      this.db.pragma(`synchronous = ${h.synchronous}`);
      this.select = this.db.prepare<[number], number>(`SELECT balance FROM ${TABLE} WHERE key = ?`).pluck();
      this.update = this.db.prepare<[number, number]>(`UPDATE ${TABLE} SET balance = balance + ? WHERE key = ?`);
      this.beginRead = this.db.prepare('BEGIN DEFERRED');
      this.beginWrite = this.db.prepare('BEGIN IMMEDIATE');
      this.commitStmt = this.db.prepare('COMMIT');
      this.dataVersion = this.db.prepare<[], number>('PRAGMA data_version').pluck();
    } catch (err) {
      throw engineError(err);
    }
  }

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  begin(kind: TxnKind): void {
    try {
      (kind === 'read' ? this.beginRead : this.beginWrite).run();
    } catch (err) {
      throw engineError(err);
    }
    this.writing = kind !== 'read';
  }

  exec(sql: string, params: readonly number[]): number {
    try {
      if (sql === SELECT) return this.select.get(params[0]!) ?? 0;
      if (sql === UPDATE) return this.update.run(params[1]!, params[0]!).changes;
    } catch (err) {
      throw engineError(err);
    }
    throw new EngineError('misuse', `sqlite adapter: "${sql}" is not a statement of the harness dialect`);
  }

  commit(): void {
    try {
      this.commitStmt.run();
    } catch (err) {
      throw engineError(err);
    }
    if (this.writing) this.sinks.count('sqlite.commits');
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  schemaChange(ddl: string): void {
    const m = DDL.exec(ddl);
    if (m === null) throw new EngineError('misuse', `sqlite adapter: "${ddl}" is not ALTER ADD|DROP COLUMN name`);
    try {
      this.db.exec(`ALTER TABLE ${TABLE} ${m[1]} COLUMN ${m[2]}${m[1] === 'ADD' ? ' INTEGER' : ''}`);
    } catch (err) {
      throw engineError(err);
    }
    this.sinks.count('sqlite.commits');
  }

  checkpoint(): void {
    try {
      const r = this.db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      this.sinks.count('sqlite.checkpoint.frames', r[0]?.checkpointed ?? 0);
    } catch (err) {
      throw engineError(err);
    }
  }

  prepare(sql: string): { run(): number } {
    const m = PREPARED_READ.exec(sql);
    if (m === null) throw new EngineError('misuse', `sqlite adapter: cannot prepare "${sql}"`);
    let stmt: Statement<[], number>;
    try {
      // A literal key: a distinct text per key, compiled afresh (better-sqlite3 keeps no statement cache).
      stmt = this.db.prepare<[], number>(`SELECT balance FROM ${TABLE} WHERE key = ${m[1]}`).pluck();
    } catch (err) {
      throw engineError(err);
    }
    return {
      run: (): number => {
        try {
          return stmt.get() ?? 0;
        } catch (err) {
          throw engineError(err);
        }
      },
    };
  }

  waitForCommit(seq: number, timeoutMs: number): boolean {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.visibleCommitSeq() >= seq) return true;
      if (performance.now() >= deadline) return false;
      Atomics.wait(this.nap, 0, 0, POLL_NAP_MS);
    }
  }

  /** PRAGMA data_version: grows (per connection) whenever another connection commits. */
  visibleCommitSeq(): number {
    try {
      return this.dataVersion.get() ?? 0;
    } catch (err) {
      throw engineError(err);
    }
  }

  close(): void {
    if (this.db.open) {
      this.rollback();
      this.db.close();
    }
  }
}
