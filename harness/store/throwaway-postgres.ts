// A throwaway PostgreSQL server for the store's tests and benchmark: a
// cluster of the installed PostgreSQL (15+) in a temporary directory, on a
// free 127.0.0.1 port, trust auth, fsync off, removed when stopped. A
// private cluster needs no credentials and leaves no state (the system
// cluster here asks for passwords on 127.0.0.1).
//
// With SHADOWBENCH_TEST_PG_URL (an admin URL, e.g.
// postgres://postgres@127.0.0.1:5432/postgres) that server is used instead.
// If PostgreSQL cannot be started, startPostgres throws; callers never skip.

import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

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

/** The server to use: SHADOWBENCH_TEST_PG_URL's, else a fresh throwaway cluster; throws if none can be had. */
export async function startPostgres(): Promise<PgServer> {
  const external = process.env['SHADOWBENCH_TEST_PG_URL'];
  if (external !== undefined && external !== '') {
    return {
      adminUrl: external,
      url: (db, password) => {
        const u = new URL(external);
        u.pathname = `/${db}`;
        if (password !== undefined) u.password = password;
        return u.toString();
      },
      stop: () => {},
    };
  }
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'sbtest-pg-'));
  // initdb refuses to run as root: run the server as the `postgres` system user then.
  const asRoot = process.getuid?.() === 0;
  if (asRoot)
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  const run = (cmd: string, args: string[]) =>
    execFileSync(asRoot ? 'runuser' : join(bin, cmd), asRoot ? ['-u', 'postgres', '--', join(bin, cmd), ...args] : args, { stdio: 'pipe', encoding: 'utf8' });
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
