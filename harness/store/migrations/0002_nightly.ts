// 0002 — what `shadowbench nightly` needs: a baseline is accepted per
// hardware signature (figures from other hardware are not comparable) and
// per cell, and users' acknowledgements and mutes of metrics are kept as an
// append-only journal (`metric_annotations`).

import type { Kysely } from 'kysely';
import type { Migration } from './migration.ts';

// Untyped on purpose: a migration is frozen SQL history and must not follow later model changes.
type Db = Kysely<any>;

async function up(db: Db): Promise<void> {
  await db.schema.dropIndex('baselines_name').execute();
  await db.schema
    .alterTable('baselines')
    .addColumn('hardware_signature', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema.createIndex('baselines_name_signature_cell').on('baselines').columns(['name', 'hardware_signature', 'cell_id']).unique().execute();

  await db.schema
    .createTable('metric_annotations')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('hardware_signature', 'text', (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('at_run', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('metric_annotations_signature_metric').on('metric_annotations').columns(['hardware_signature', 'metric', 'created_at']).execute();
}

async function down(db: Db): Promise<void> {
  await db.schema.dropTable('metric_annotations').execute();
  await db.schema.dropIndex('baselines_name_signature_cell').execute();
  await db.schema.alterTable('baselines').dropColumn('hardware_signature').execute();
  await db.schema.createIndex('baselines_name').on('baselines').columns(['name', 'engine_variant', 'workload']).unique().execute();
}

export const m0002: Migration = { version: 2, name: 'nightly baselines and metric annotations', up, down };
