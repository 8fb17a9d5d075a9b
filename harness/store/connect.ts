// Where the store lives and how to open it. `--store` or SHADOWBENCH_STORE_URL
// names it: a SQLite file path (or sqlite:// URL) or a postgres:// URL; the
// default is the embedded results/shadowbench.db. Credentials come only from
// that URL or the environment (PG* variables), and every URL printed goes
// through redactUrl first. A store that cannot be opened, is not a database
// or cannot be reached is a StoreUnavailableError: one line naming the store
// (file, or host and port) and the cause.

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './database.ts';

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
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw))
    throw new StoreError(`store URL scheme not supported: '${redactUrl(raw)}' (use a file path, sqlite:// or postgres://)`);
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

/** The store cannot be used at all: not opened, not a database, not reached. */
export class StoreUnavailableError extends StoreError {}

export interface Store {
  target: StoreTarget;
  dialect: Dialect;
  /** Typed by the models (database.ts); rows are written and decoded through harness/store/table.ts. */
  db: Kysely<Database>;
  close(): Promise<void>;
}

/** A driver error in one line: its message, else its code (Node's AggregateError for a refused connection has no message of its own). */
function cause(err: unknown): string {
  const e = err as Error & { code?: string; errors?: unknown[] };
  const first = Array.isArray(e.errors) && e.errors.length > 0 ? cause(e.errors[0]) : '';
  const text = (e.message ?? '') !== '' ? e.message : first !== '' ? first : (e.code ?? String(err));
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Where a store is, for an error: the file, or the PostgreSQL host and port (never a password). */
function whereIs(t: StoreTarget): string {
  if (t.dialect === 'sqlite') return t.path;
  try {
    const u = new URL(t.url);
    return `PostgreSQL at ${u.hostname || process.env['PGHOST'] || 'localhost'}:${u.port || process.env['PGPORT'] || '5432'} (${redactUrl(t.url)})`;
  } catch {
    return `PostgreSQL at ${redactUrl(t.url)}`;
  }
}

function unavailable(t: StoreTarget, err: unknown): StoreUnavailableError {
  const what = t.dialect === 'sqlite' ? 'cannot open the SQLite store' : 'cannot reach the';
  return new StoreUnavailableError(`${what} ${whereIs(t)}: ${redactUrl(cause(err))}`);
}

// int8 (OID 20) comes back as a string by default; the models' integers fit in a double.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** How long connecting to PostgreSQL may take before the store counts as unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens the store. A SQLite file is opened (and proved a database) here; a
 * PostgreSQL pool connects on first use: see connectStore.
 */
export function openStore(target: StoreTarget): Store {
  if (target.dialect === 'sqlite') {
    let database: SqliteDatabase.Database | undefined;
    try {
      if (target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true });
      database = new SqliteDatabase(target.path);
      // WAL: readers (status, reports) do not block a writer, and a crash loses at most the last transaction.
      // Setting it reads the file's header, so a file that is not a database fails here.
      database.pragma('journal_mode = WAL');
      database.pragma('foreign_keys = ON');
    } catch (err) {
      database?.close();
      throw unavailable(target, err);
    }
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    return { target, dialect: 'sqlite', db, close: () => db.destroy() };
  }
  const pool = new pg.Pool({ connectionString: target.url, max: 4, types: pgTypes, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle pooled connection that the server ends (restart, a dropped
  // database) emits 'error' on the pool; unhandled, that kills the process.
  // The next query reconnects or fails with its own, catchable, error.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { target, dialect: 'postgres', db, close: () => db.destroy() };
}

/** Opens the store and proves it usable (a database that answers), or throws StoreUnavailableError. */
export async function connectStore(target: StoreTarget): Promise<Store> {
  const store = openStore(target);
  try {
    // SQLite: reads the schema page, so a damaged file fails here; PostgreSQL: connects and authenticates.
    await sql`select count(*) from ${sql.raw(store.dialect === 'sqlite' ? 'sqlite_master' : 'pg_catalog.pg_namespace')}`.execute(store.db);
    return store;
  } catch (err) {
    await store.close().catch(() => {});
    throw unavailable(target, err);
  }
}
