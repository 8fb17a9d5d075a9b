// 0003 — runs and cells keep what the run folder has and the store did not:
// runs gain `engine_comparison` (the engines side by side) and cells
// `not_reported` (card classes the engine cannot report); both are null for
// rows stored before, which never kept them. Runs also gain `nightly` and
// `hardware_signature`, copies of config.nightly and
// environment.hardware_signature as columns, with an index, so a nightly's
// history (name, signature, newest first) is one indexed query instead of
// reading every run. Existing runs are backfilled from their JSON, in this
// migration, row by row (portable across SQLite and PostgreSQL); the step
// reports how many.

import { sql, type Kysely } from 'kysely';
import type { Migration } from './migration.ts';

// Untyped on purpose: a migration is frozen SQL history and must not follow later model changes.
type Db = Kysely<any>;

async function up(db: Db): Promise<string> {
  await db.schema.alterTable('runs').addColumn('nightly', 'text').execute();
  await db.schema
    .alterTable('runs')
    .addColumn('hardware_signature', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema.alterTable('runs').addColumn('engine_comparison', 'text').execute();
  await db.schema.alterTable('cells').addColumn('not_reported', 'text').execute();

  const runs = await sql<{ id: string; config: string; environment: string }>`select id, config, environment from runs`.execute(db);
  for (const r of runs.rows) {
    const config = JSON.parse(r.config) as { nightly?: unknown };
    const environment = JSON.parse(r.environment) as { hardware_signature?: unknown };
    const nightly = typeof config.nightly === 'string' ? config.nightly : null;
    const signature = typeof environment.hardware_signature === 'string' ? environment.hardware_signature : '';
    await sql`update runs set nightly = ${nightly}, hardware_signature = ${signature} where id = ${r.id}`.execute(db);
  }
  await db.schema.createIndex('runs_nightly_signature_started').on('runs').columns(['nightly', 'hardware_signature', 'started_at']).execute();
  return `backfilled nightly and hardware_signature of ${runs.rows.length} run(s)`;
}

async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('runs_nightly_signature_started').execute();
  await db.schema.alterTable('cells').dropColumn('not_reported').execute();
  for (const c of ['engine_comparison', 'hardware_signature', 'nightly']) await db.schema.alterTable('runs').dropColumn(c).execute();
}

export const m0003: Migration = { version: 3, name: 'runs queryable by nightly and hardware; engine comparison and not-reported classes kept', up, down };
