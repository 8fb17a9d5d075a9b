// Real databases for the store tests: a temporary SQLite file and a fresh
// PostgreSQL database per test run.
//
// PostgreSQL: with SHADOWBENCH_TEST_PG_URL (an admin URL, e.g.
// postgres://postgres@127.0.0.1:5432/postgres) the tests use that server.
// Otherwise they start a throwaway cluster of the installed PostgreSQL (15)
// in a temp directory on a free 127.0.0.1 port with trust auth, and remove
// it afterwards — the system cluster's pg_hba.conf here asks for passwords on
// 127.0.0.1, and a private cluster needs no credentials and leaves no state.
// If PostgreSQL cannot be started the tests fail; they never skip.

import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../support/net.ts';
import { openStore, type Store } from '../../harness/store/connect.ts';

export type TestDialect = 'sqlite' | 'postgres';

function pgBinDir(): string {
  for (const v of ['17', '16', '15']) if (existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)) return `/usr/lib/postgresql/${v}/bin`;
  return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
}


export interface PgServer {
  adminUrl: string;
  /** A URL for database `db` on this server (optionally with a password, ignored by trust auth). */
  url(db: string, password?: string): string;
  stop(): void;
}

/** The PostgreSQL server the tests use; throws (failing the test) if none can be had. */
export async function startPostgres(): Promise<PgServer> {
  const external = process.env.SHADOWBENCH_TEST_PG_URL;
  if (external !== undefined && external !== '') {
    return {
      adminUrl: external,
      url: (db, password) => { const u = new URL(external); u.pathname = `/${db}`; if (password !== undefined) u.password = password; return u.toString(); },
      stop: () => {},
    };
  }
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'sbtest-pg-'));
  // initdb refuses to run as root: run the server as the `postgres` system user then.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  const run = (cmd: string, args: string[]) => execFileSync(asRoot ? 'runuser' : join(bin, cmd), asRoot ? ['-u', 'postgres', '--', join(bin, cmd), ...args] : args, { stdio: 'pipe', encoding: 'utf8' });
  const data = join(dir, 'data');
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-N', '-E', 'UTF8']);
    run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: string; message: string };
    throw new Error(`cannot start a test PostgreSQL from ${bin}: ${e.stderr ?? e.message}`);
  }
  const url = (db: string, password?: string) => `postgres://postgres${password === undefined ? '' : `:${password}`}@127.0.0.1:${port}/${db}`;
  return {
    adminUrl: url('postgres'),
    url,
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

let counter = 0;

/** A fresh, empty database on `server`; drop it with the returned function. */
export async function freshPgDatabase(server: PgServer): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `sbtest_${process.pid}_${++counter}`;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: server.url(name),
    async drop() {
      const c = new pg.Client({ connectionString: server.adminUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * A fresh empty store of the dialect; `dispose` closes and deletes it. The
 * PostgreSQL server is started here, inside the test, not in a uvu `before`
 * hook: uvu 0.5 swallows a hook's error and exits 0, which would let a missing
 * server pass silently.
 */
export async function freshStore(dialect: TestDialect): Promise<{ store: Store; url: string; dispose(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sbtest-sqlite-'));
    const path = join(dir, 'store.db');
    const store = openStore({ dialect: 'sqlite', path });
    return { store, url: path, async dispose() { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const db = await freshPgDatabase(await sharedPostgres());
  const store = openStore({ dialect: 'postgres', url: db.url });
  return { store, url: db.url, async dispose() { await store.close(); await db.drop(); } };
}

let shared: Promise<PgServer> | undefined;

/** One server for every store test file in the process, stopped when the process exits. */
export function sharedPostgres(): Promise<PgServer> {
  if (shared === undefined) {
    shared = startPostgres();
    shared.then((s) => process.once('exit', () => s.stop()), () => {});
  }
  return shared;
}

export const DIALECTS: readonly TestDialect[] = ['sqlite', 'postgres'];
