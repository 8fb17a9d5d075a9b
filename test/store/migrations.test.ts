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
import { DIALECTS, freshStore } from './databases.ts';

for (const dialect of DIALECTS) {
  test(`${dialect}: every migration up, down, up on an empty database`, async () => {
    const { store, dispose } = await freshStore(dialect);
    try {
      assert.equal(await introspect(store.db, dialect), [], 'starts empty');
      const versions = MIGRATIONS.map((m) => m.version).sort((a, b) => a - b);
      for (const pass of ['first', 'second']) {
        for (const v of versions) {
          const steps = await migrateTo(store, v);
          assert.equal(steps.map((s) => `${s.direction}${s.version}`), [`up${v}`], `${pass} up to ${v}`);
          assert.is((await migrationStatus(store)).current, v);
        }
        const live = await introspect(store.db, dialect);
        assert.equal(diffShapes(MODELS.map(modelShape), live, { expected: 'models', actual: 'live' }), [], `${pass} pass: schema equals the models`);
        for (const v of [...versions].reverse()) {
          const steps = await migrateTo(store, v - 1);
          assert.equal(steps.map((s) => `${s.direction}${s.version}`), [`down${v}`]);
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
    await store.db.insertInto('schema_migrations').values({ version: LATEST_VERSION + 1, name: 'future', applied_at: '2030-01-01T00:00:00.000Z' }).execute();
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
