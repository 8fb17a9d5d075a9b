// Where the store lives and how to open it. `--store` or SHADOWBENCH_STORE_URL
// names it: a SQLite file path (or sqlite:// URL) or a postgres:// URL; the
// default is the embedded results/shadowbench.db. Credentials come only from
// that URL or the environment (PG* variables), and every URL printed goes
// through redactUrl first.

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';

export type Dialect = 'sqlite' | 'postgres';

export type StoreTarget = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

export const DEFAULT_STORE = 'results/shadowbench.db';
export const STORE_ENV = 'SHADOWBENCH_STORE_URL';

export class StoreError extends Error {
  override readonly name = 'StoreError';
}

/** Resolves the store from the flag, else the environment, else the default file. */
export function storeTarget(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): StoreTarget {
  const raw = flag ?? env[STORE_ENV] ?? DEFAULT_STORE;
  if (/^postgres(ql)?:\/\//i.test(raw)) return { dialect: 'postgres', url: raw };
  if (/^sqlite:/i.test(raw)) {
    // sqlite:///abs/path, sqlite://rel/path and sqlite:rel/path all name a file.
    const path = raw.replace(/^sqlite:(\/\/)?/i, '');
    if (path === '') throw new StoreError(`store URL '${raw}' names no file`);
    return { dialect: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new StoreError(`store URL scheme not supported: '${redactUrl(raw)}' (use a file path, sqlite:// or postgres://)`);
  return { dialect: 'sqlite', path: raw === ':memory:' ? raw : resolve(raw) };
}

/** The URL with any password replaced by `***`, for logs and reports. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password !== '') u.password = '***';
    for (const k of [...u.searchParams.keys()]) if (/pass/i.test(k)) u.searchParams.set(k, '***');
    return u.toString();
  } catch {
    // Not a URL (a file path): still hide anything shaped like user:password@.
    return raw.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

export function describeTarget(t: StoreTarget): string {
  return t.dialect === 'sqlite' ? `sqlite:${t.path}` : redactUrl(t.url);
}

export interface Store {
  target: StoreTarget;
  dialect: Dialect;
  /**
   * Untyped at the Kysely level on purpose: every row is validated against its
   * zod model by harness/store/table.ts before it is written or returned.
   */
  db: Kysely<any>;
  close(): Promise<void>;
}

// int8 (OID 20) comes back as a string by default; the models' integers fit in a double.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

export function openStore(target: StoreTarget): Store {
  if (target.dialect === 'sqlite') {
    if (target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true });
    const database = new Database(target.path);
    // WAL: readers (status, reports) do not block a writer, and a crash loses at most the last transaction.
    database.pragma('journal_mode = WAL');
    database.pragma('foreign_keys = ON');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
    return { target, dialect: 'sqlite', db, close: () => db.destroy() };
  }
  const pool = new pg.Pool({ connectionString: target.url, max: 4, types: pgTypes });
  // An idle pooled connection that the server ends (restart, a dropped
  // database) emits 'error' on the pool; unhandled, that kills the process.
  // The next query reconnects or fails with its own, catchable, error.
  pool.on('error', () => {});
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  return { target, dialect: 'postgres', db, close: () => db.destroy() };
}
