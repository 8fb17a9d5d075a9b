// Migrations against real SQLite and PostgreSQL: on an empty database every
// migration goes up, then down, then up again, one step at a time; after each
// step the introspected schema is exactly what the migrations so far declare,
// and at the latest version exactly what the models declare. Also: an empty
// embedded store migrates on first use; an older or empty PostgreSQL store is
// an error naming the command to run.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { migrateTo, migrationStatus, ensureReady, StoreVersionError } from '../../harness/store/migrate.ts';
import { LATEST_VERSION, MIGRATIONS } from '../../harness/store/migrations/index.ts';
import { MODELS } from '../../harness/store/models.ts';
import { diffShapes, introspect, modelShape } from '../../harness/store/schema.ts';
import { sql } from 'kysely';
import { storedRun } from '../../harness/store/domains/runs.ts';
import { DIALECTS, freshStore } from './databases.ts';
import { cell, run } from './fixtures.ts';

for (const dialect of DIALECTS) {
  test(`${dialect}: every migration up, down, up on an empty database`, async () => {
    const { store, dispose } = await freshStore(dialect);
    try {
      assert.equal(await introspect(store.db, dialect), [], 'starts empty');
      const versions = MIGRATIONS.map((m) => m.version).sort((a, b) => a - b);
      for (const pass of ['first', 'second']) {
        for (const v of versions) {
          const steps = await migrateTo(store, v);
          assert.equal(
            steps.map((s) => `${s.direction}${s.version}`),
            [`up${v}`],
            `${pass} up to ${v}`,
          );
          assert.is((await migrationStatus(store)).current, v);
        }
        const live = await introspect(store.db, dialect);
        assert.equal(diffShapes(MODELS.map(modelShape), live, { expected: 'models', actual: 'live' }), [], `${pass} pass: schema equals the models`);
        for (const v of [...versions].reverse()) {
          const steps = await migrateTo(store, v - 1);
          assert.equal(
            steps.map((s) => `${s.direction}${s.version}`),
            [`down${v}`],
          );
        }
        assert.equal(await introspect(store.db, dialect), [], `${pass} pass: all the way down leaves nothing`);
        assert.is((await migrationStatus(store)).current, 0);
      }
      await migrateTo(store);
      assert.is((await migrationStatus(store)).current, LATEST_VERSION);
      assert.equal(await migrateTo(store), [], 'migrating an up-to-date store does nothing');
    } finally {
      await dispose();
    }
  });
}

for (const dialect of DIALECTS) {
  test(`${dialect}: 0003 backfills the runs stored before it, reads them back, and goes down leaving them as they were`, async () => {
    const { store, dispose } = await freshStore(dialect);
    try {
      await migrateTo(store, 2);
      // A run and a cell as schema version 2 stored them.
      const config = JSON.stringify({ ...run.config, nightly: 'nightly' });
      const environment = JSON.stringify(run.environment);
      await sql`insert into runs (id, started_at, ended_at, argv, config, engine, environment, schedule_note, totals)
        values (${run.run_id}, ${run.started_at}, ${run.ended_at}, ${JSON.stringify(run.argv)}, ${config}, ${null}, ${environment}, ${null}, ${JSON.stringify(run.totals)})`.execute(
        store.db,
      );
      const flag = (b: boolean) => (dialect === 'sqlite' ? Number(b) : b);
      await sql`insert into cells (id, run_id, cell_id, variant, backend, workload, concurrency, mode_set, control_modes, status, failures, gaps, usable_for_gate,
        deterministic, correctness, notes, operations, measured_ms, throughput_ops_s, errors, rounds, histograms_file)
        values (${`${run.run_id}/${cell.id}`}, ${run.run_id}, ${cell.id}, ${cell.variant}, ${cell.backend}, ${cell.workload}, ${cell.concurrency}, ${cell.mode_set},
        ${JSON.stringify(cell.control_modes)}, ${cell.status}, ${'[]'}, ${'[]'}, ${flag(true)}, ${flag(true)}, ${'[]'}, ${'[]'}, ${cell.operations}, ${cell.measured_ms},
        ${cell.throughput_ops_s}, ${'{}'}, ${JSON.stringify(cell.rounds)}, ${cell.histograms_file})`.execute(store.db);

      const [step] = await migrateTo(store, 3);
      assert.is(step?.note, 'backfilled nightly and hardware_signature of 1 run(s)');
      const row = await store.db.selectFrom('runs').select(['nightly', 'hardware_signature', 'engine_comparison']).executeTakeFirstOrThrow();
      assert.equal(row, { nightly: 'nightly', hardware_signature: run.environment.hardware_signature, engine_comparison: null });
      const back = await storedRun(store, run.run_id);
      assert.is(back?.config.nightly, 'nightly');
      assert.equal(
        back?.cells.map((c) => [c.id, c.not_reported]),
        [[cell.id, undefined]],
        'not kept before 0003',
      );

      await migrateTo(store, 2);
      const old = await sql<{ config: string }>`select * from runs`.execute(store.db);
      assert.equal(Object.keys(old.rows[0]!).sort(), ['argv', 'config', 'ended_at', 'engine', 'environment', 'id', 'schedule_note', 'started_at', 'totals']);
      assert.is(old.rows[0]!.config, config, 'the row is as version 2 stored it');
      const cols = await sql<Record<string, unknown>>`select * from cells`.execute(store.db);
      assert.not.ok('not_reported' in cols.rows[0]!);
    } finally {
      await dispose();
    }
  });
}

test('sqlite: an empty embedded store is migrated on first use', async () => {
  const { store, dispose } = await freshStore('sqlite');
  try {
    const status = await ensureReady(store);
    assert.is(status.current, LATEST_VERSION);
    assert.is(status.applied.length, MIGRATIONS.length);
  } finally {
    await dispose();
  }
});

test('an older store is never migrated silently: the error names the command', async () => {
  for (const dialect of DIALECTS) {
    const { store, dispose } = await freshStore(dialect);
    try {
      // PostgreSQL: even an empty one is not migrated behind the operator's back.
      if (dialect === 'sqlite') await store.db.schema.createTable('unrelated').addColumn('x', 'text').execute();
      let err: unknown;
      try {
        await ensureReady(store);
      } catch (e) {
        err = e;
      }
      assert.instance(err, StoreVersionError, dialect);
      assert.match((err as Error).message, 'shadowbench store migrate --store');
      assert.match((err as Error).message, `version 0, this build needs ${LATEST_VERSION}`);
      assert.is((await migrationStatus(store)).current, 0, 'nothing was applied');
    } finally {
      await dispose();
    }
  }
});

test('a store newer than this build is refused', async () => {
  const { store, dispose } = await freshStore('sqlite');
  try {
    await migrateTo(store);
    await store.db
      .insertInto('schema_migrations')
      .values({ version: LATEST_VERSION + 1, name: 'future', applied_at: '2030-01-01T00:00:00.000Z' })
      .execute();
    let err: unknown;
    try {
      await ensureReady(store);
    } catch (e) {
      err = e;
    }
    assert.instance(err, StoreVersionError);
    assert.match((err as Error).message, 'newer than this build');
  } finally {
    await dispose();
  }
});

test.run();
