// Applies and reverts schema migrations and records them in schema_migrations
// (this module is that domain's owner). Each step runs in its own transaction
// with its record, so a failed step leaves the previous version intact.
// An empty embedded store is migrated on first use; any other store that is
// behind is an error naming the command to run — never migrated silently.

import { sql } from 'kysely';
import { describeTarget, StoreError, type Store } from './connect.ts';
import { LATEST_VERSION, MIGRATIONS } from './migrations/index.ts';
import type { Migration } from './migrations/migration.ts';
import { ownerAccess } from './table.ts';

export const migrationsTable = ownerAccess(import.meta.url, 'schema_migrations');

/** A store whose schema version this build cannot use as is. */
export class StoreVersionError extends StoreError {
  constructor(
    message: string,
    readonly current: number,
    readonly latest: number,
  ) {
    super(message);
  }
}

async function tableNames(store: Store): Promise<string[]> {
  const r =
    store.dialect === 'sqlite'
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(store.db)
      : await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(store.db);
  return r.rows.map((x) => x.name);
}

export interface MigrationStatus {
  store: string;
  current: number;
  latest: number;
  applied: { version: number; name: string; applied_at: string }[];
  pending: { version: number; name: string }[];
  /** Versions recorded in the database that this build does not know (a newer build migrated it). */
  unknown: number[];
  empty: boolean;
}

export async function migrationStatus(store: Store): Promise<MigrationStatus> {
  const tables = await tableNames(store);
  const applied = tables.includes('schema_migrations')
    ? (await store.db.selectFrom('schema_migrations').selectAll().orderBy('version').execute()).map(migrationsTable.decode)
    : [];
  const versions = new Set(applied.map((a) => a.version));
  return {
    store: describeTarget(store.target),
    current: applied.reduce((v, a) => Math.max(v, a.version), 0),
    latest: LATEST_VERSION,
    applied,
    pending: MIGRATIONS.filter((m) => !versions.has(m.version)).map((m) => ({ version: m.version, name: m.name })),
    unknown: applied.filter((a) => !MIGRATIONS.some((m) => m.version === a.version)).map((a) => a.version),
    empty: tables.length === 0,
  };
}

export interface MigrationStep {
  direction: 'up' | 'down';
  version: number;
  name: string;
  /** What an up step did to existing rows (a backfill), when it says. */
  note?: string;
}

/** Moves the schema to `target` (default: latest), up or down one migration per transaction. */
export async function migrateTo(store: Store, target = LATEST_VERSION, now: () => Date = () => new Date()): Promise<MigrationStep[]> {
  if (!Number.isInteger(target) || target < 0 || target > LATEST_VERSION) throw new StoreError(`no schema version ${target} (known: 0..${LATEST_VERSION})`);
  const status = await migrationStatus(store);
  if (status.unknown.length > 0)
    throw new StoreVersionError(
      `${status.store} has schema versions this build does not know (${status.unknown.join(', ')}): use a newer shadowbench`,
      status.current,
      LATEST_VERSION,
    );
  const steps: MigrationStep[] = [];
  const ordered = [...MIGRATIONS].sort((a, b) => a.version - b.version);
  const run = async (m: Migration, direction: 'up' | 'down') => {
    const note = await store.db.transaction().execute(async (trx): Promise<string | void> => {
      const tx: Store = { ...store, db: trx };
      if (direction === 'down') {
        // Remove the record first: the first migration's down drops its table.
        await migrationsTable.remove(tx, (q) => q.where('version', '=', m.version));
        return m.down(trx);
      }
      const done = await m.up(trx);
      await migrationsTable.write(tx, { version: m.version, name: m.name, applied_at: now().toISOString() });
      return done;
    });
    steps.push({ direction, version: m.version, name: m.name, ...(typeof note === 'string' ? { note } : {}) });
  };
  for (const m of ordered) if (m.version > status.current && m.version <= target) await run(m, 'up');
  for (const m of ordered.reverse()) if (m.version <= status.current && m.version > target) await run(m, 'down');
  return steps;
}

/**
 * Makes a store ready for use: migrates an empty embedded (SQLite) store; any
 * other store must already be at the latest version.
 */
export async function ensureReady(store: Store): Promise<MigrationStatus> {
  const status = await migrationStatus(store);
  if (status.current === LATEST_VERSION && status.unknown.length === 0) return status;
  if (status.empty && store.dialect === 'sqlite') {
    await migrateTo(store);
    return migrationStatus(store);
  }
  const cmd = `shadowbench store migrate --store '${status.store}'`;
  if (status.unknown.length > 0 || status.current > LATEST_VERSION) {
    throw new StoreVersionError(
      `store ${status.store} is at schema version ${status.current}, newer than this build's ${LATEST_VERSION}: use a newer shadowbench`,
      status.current,
      LATEST_VERSION,
    );
  }
  throw new StoreVersionError(
    `store ${status.store} is at schema version ${status.current}, this build needs ${LATEST_VERSION}: run \`${cmd}\``,
    status.current,
    LATEST_VERSION,
  );
}
