// Real databases for the store tests: a temporary SQLite file and a fresh
// PostgreSQL database per test, on one throwaway server per process
// (harness/store/throwaway-postgres.ts; SHADOWBENCH_TEST_PG_URL names an
// existing server instead). If PostgreSQL cannot be started the tests fail;
// they never skip.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../harness/store/connect.ts';
import { freshPgDatabase, startPostgres, type PgServer } from '../../harness/store/throwaway-postgres.ts';

export { freshPgDatabase };

export type TestDialect = 'sqlite' | 'postgres';

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
    return {
      store,
      url: path,
      async dispose() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const db = await freshPgDatabase(await sharedPostgres());
  const store = openStore({ dialect: 'postgres', url: db.url });
  return {
    store,
    url: db.url,
    async dispose() {
      await store.close();
      await db.drop();
    },
  };
}

let shared: Promise<PgServer> | undefined;

/** One server for every store test file in the process, stopped when the process exits. */
export function sharedPostgres(): Promise<PgServer> {
  if (shared === undefined) {
    shared = startPostgres();
    shared.then(
      (s) => process.once('exit', () => s.stop()),
      () => {},
    );
  }
  return shared;
}

export const DIALECTS: readonly TestDialect[] = ['sqlite', 'postgres'];
