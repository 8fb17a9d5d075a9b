// The SQLite comparator on the main thread: fixtures and cell databases.
//
// File backend: WAL mode, synchronous from the workload's fsync policy.
// Memory backend: the same WAL database on /dev/shm (tmpfs), synchronous
// OFF. Not `file:…?mode=memory&cache=shared`: shared-cache mode replaces
// WAL's readers-beside-one-writer with table-level locks that fail with
// SQLITE_LOCKED at once (busy_timeout does not apply), so it would measure
// shared-cache locking, not SQLite's concurrency; on tmpfs the locking
// model is the file backend's and only the disk is gone.

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_CONFIG, type FsyncPolicy } from '../../../engine/index.ts';
import { FixtureError } from '../fixture.ts';
import type { CellDatabase, EngineAdapter } from '../adapter.ts';
import { TABLE, type SqliteHandle, type SqliteSynchronous } from './handle.ts';
import { sqliteStateHash } from './state.ts';

const SYNCHRONOUS: Record<FsyncPolicy, SqliteSynchronous> = { off: 'OFF', normal: 'NORMAL', full: 'FULL' };
const SHM = '/dev/shm';

function withDatabase<T>(path: string, f: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return f(db);
  } finally {
    db.close();
  }
}

export const sqliteAdapter: EngineAdapter = {
  variant: 'sqlite',

  /** The reference engine's pin (`fixture.sha256`) hashes its pages, not rows: the SQLite fixture records its own hash instead. */
  async buildFixture(spec, _specFile, dir) {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${spec.name}.sqlite`);
    if (existsSync(path)) throw new FixtureError(`${path}: fixture already exists`);
    const sha256 = withDatabase(path, (db) => {
      db.pragma('journal_mode = WAL');
      db.exec(`CREATE TABLE ${TABLE} (key INTEGER PRIMARY KEY, balance INTEGER NOT NULL)`);
      const insert = db.prepare(`INSERT INTO ${TABLE} (key, balance) VALUES (?, ?)`);
      db.transaction(() => {
        for (let k = 1; k <= spec.fixture.rows; k++) insert.run(k, spec.fixture.initial_balance);
      })();
      // Everything in the main file, so a cell copies one file.
      db.pragma('wal_checkpoint(TRUNCATE)');
      return sqliteStateHash(db);
    });
    return { path, sha256 };
  },

  async openCell(spec, fixture, o, dir): Promise<CellDatabase> {
    if (fixture.path === null) throw new FixtureError(`${spec.name}: the sqlite adapter needs a fixture file`);
    const memory = o.backend === 'memory';
    const cellDir = memory ? mkdtempSync(join(existsSync(SHM) ? SHM : tmpdir(), 'shadowbench-')) : dir;
    mkdirSync(cellDir, { recursive: true });
    const path = join(cellDir, 'cell.sqlite');
    copyFileSync(fixture.path, path);
    const handle: SqliteHandle = {
      variant: 'sqlite',
      path,
      synchronous: memory ? 'OFF' : SYNCHRONOUS[spec.engine.fsync],
      // The reference engine's busy timeout: SQLite's busy handler waits that long before SQLITE_BUSY reaches the Driver.
      busy_timeout_ms: DEFAULT_CONFIG.busyTimeoutMs,
    };
    return {
      handle,
      shared: null,
      reported: [],
      stateHash: async () => withDatabase(path, sqliteStateHash),
      describe: () => ({
        variant: 'sqlite',
        backend: o.backend,
        faults: {},
        fault_injection_active: false,
        details: {
          sqlite_version: withDatabase(path, (db) => db.prepare('SELECT sqlite_version()').pluck().get() as string),
          journal_mode: 'wal',
          synchronous: handle.synchronous,
          busy_timeout_ms: handle.busy_timeout_ms,
          storage: memory ? `WAL file on ${cellDir.startsWith(SHM) ? 'tmpfs (/dev/shm)' : 'the temp dir (no /dev/shm)'}` : 'WAL file',
          begin_concurrent: 'not in stock SQLite: concurrent_write runs as BEGIN IMMEDIATE',
        },
      }),
      close: async () => {
        if (memory) rmSync(cellDir, { recursive: true, force: true });
      },
    };
  },
};
