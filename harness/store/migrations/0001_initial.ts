// 0001 — the first schema: every domain of the policy matrix at model version
// 1.0.0. Frozen once released: later changes are new migrations, and `store
// check` proves the result still equals what the models declare.
//
// Why these choices: text primary keys (ids made by the writer, portable
// across SQLite and PostgreSQL); integers are bigint, JSON is text, instants
// are ISO-8601 UTC text; indexes serve the lookups each owner module makes
// (cells and histograms by run, audit and decision rows by variant/class/time,
// one rollout row per variant and class, one baseline per name/variant/workload).

import type { Kysely } from 'kysely';
import type { Migration } from './migration.ts';

// Untyped on purpose: a migration is frozen SQL history and must not follow later model changes.
type Db = Kysely<any>;

async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('schema_migrations')
    .addColumn('version', 'bigint', (c) => c.primaryKey().notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('runs')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'text', (c) => c.notNull())
    .addColumn('argv', 'text', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('engine', 'text')
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('schedule_note', 'text')
    .addColumn('totals', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('cells')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('cell_id', 'text', (c) => c.notNull())
    .addColumn('variant', 'text', (c) => c.notNull())
    .addColumn('backend', 'text', (c) => c.notNull())
    .addColumn('workload', 'text', (c) => c.notNull())
    .addColumn('concurrency', 'bigint', (c) => c.notNull())
    .addColumn('mode_set', 'text', (c) => c.notNull())
    .addColumn('control_modes', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('failures', 'text', (c) => c.notNull())
    .addColumn('gaps', 'text', (c) => c.notNull())
    .addColumn('usable_for_gate', 'boolean', (c) => c.notNull())
    .addColumn('deterministic', 'boolean', (c) => c.notNull())
    .addColumn('correctness', 'text', (c) => c.notNull())
    .addColumn('notes', 'text', (c) => c.notNull())
    .addColumn('operations', 'bigint', (c) => c.notNull())
    .addColumn('measured_ms', 'double precision', (c) => c.notNull())
    .addColumn('throughput_ops_s', 'double precision', (c) => c.notNull())
    .addColumn('errors', 'text', (c) => c.notNull())
    .addColumn('rounds', 'text', (c) => c.notNull())
    .addColumn('histograms_file', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('cells_run_id').on('cells').column('run_id').execute();

  await db.schema
    .createTable('histograms')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('cell_id', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('encoding', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('start_ms', 'bigint', (c) => c.notNull())
    .addColumn('end_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('histograms_run_cell').on('histograms').columns(['run_id', 'cell_id']).execute();

  await db.schema
    .createTable('trigger_evaluations')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('run_id', 'text')
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('engine_variant', 'text', (c) => c.notNull())
    .addColumn('metadata_class', 'text', (c) => c.notNull())
    .addColumn('evaluated_at', 'text', (c) => c.notNull())
    .addColumn('fired', 'boolean', (c) => c.notNull())
    .addColumn('observed', 'double precision')
    .addColumn('threshold', 'double precision')
    .addColumn('detail', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('trigger_evaluations_trigger_time').on('trigger_evaluations').columns(['trigger', 'evaluated_at']).execute();

  await db.schema
    .createTable('fallback_events')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('engine_variant', 'text', (c) => c.notNull())
    .addColumn('metadata_class', 'text', (c) => c.notNull())
    .addColumn('from_mode', 'text', (c) => c.notNull())
    .addColumn('to_mode', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .execute();
  await db.schema
    .createIndex('fallback_events_variant_class_time')
    .on('fallback_events')
    .columns(['engine_variant', 'metadata_class', 'occurred_at'])
    .execute();

  await db.schema
    .createTable('gate_decisions')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('decided_at', 'text', (c) => c.notNull())
    .addColumn('engine_variant', 'text', (c) => c.notNull())
    .addColumn('metadata_class', 'text', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('from_mode', 'text', (c) => c.notNull())
    .addColumn('to_mode', 'text')
    .addColumn('rationale', 'text', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('gate_decisions_variant_class_time').on('gate_decisions').columns(['engine_variant', 'metadata_class', 'decided_at']).execute();

  await db.schema
    .createTable('rollout_state')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('engine_variant', 'text', (c) => c.notNull())
    .addColumn('metadata_class', 'text', (c) => c.notNull())
    .addColumn('control_mode', 'text', (c) => c.notNull())
    .addColumn('changed_by', 'text', (c) => c.notNull())
    .addColumn('changed_at', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rollout_state_variant_class').on('rollout_state').columns(['engine_variant', 'metadata_class']).unique().execute();

  await db.schema
    .createTable('baselines')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('engine_variant', 'text', (c) => c.notNull())
    .addColumn('workload', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('cell_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('metrics', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('baselines_name').on('baselines').columns(['name', 'engine_variant', 'workload']).unique().execute();
}

async function down(db: Db): Promise<void> {
  // Reverse order of creation; dropping a table drops its indexes.
  for (const t of [
    'baselines',
    'rollout_state',
    'gate_decisions',
    'fallback_events',
    'trigger_evaluations',
    'histograms',
    'cells',
    'runs',
    'schema_migrations',
  ]) {
    await db.schema.dropTable(t).execute();
  }
}

export const m0001: Migration = { version: 1, name: 'initial', up, down };
