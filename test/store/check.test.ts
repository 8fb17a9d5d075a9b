// The drift gate against real SQLite and PostgreSQL: a migrated store passes
// with every mandatory and should_use round trip; a column added outside the
// migrations, a table nobody classified, a model the matrix does not classify,
// an ownership conflict, a version mismatch — each is caught by its code and
// named. Every event carries the matrix's trace_correlation.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { checkStore, type CheckReport, type EventCode } from '../../harness/store/check.ts';
import { migrateTo } from '../../harness/store/migrate.ts';
import { MODELS, type ModelDef } from '../../harness/store/models.ts';
import { committedPolicy, traceCorrelation, type PolicyMatrix } from '../../harness/store/policy.ts';
import { OwnershipError, ownerAccess } from '../../harness/store/table.ts';
import { DIALECTS, freshStore, type TestDialect } from './databases.ts';

const codes = (r: CheckReport, code: EventCode) => r.events.filter((e) => e.code === code);

async function withMigrated(dialect: TestDialect, fn: (s: Awaited<ReturnType<typeof freshStore>>['store']) => Promise<void>): Promise<void> {
  const fresh = await freshStore(dialect);
  try {
    await migrateTo(fresh.store);
    await fn(fresh.store);
  } finally {
    await fresh.dispose();
  }
}

const matrix = (): PolicyMatrix => structuredClone(committedPolicy());

for (const dialect of DIALECTS) {
  test(`${dialect}: a migrated store passes; round trips for every mandatory and should_use domain`, async () => {
    await withMigrated(dialect, async (store) => {
      const r = await checkStore(store);
      assert.equal(
        r.events.filter((e) => e.level !== 'info'),
        [],
        'no warnings or errors',
      );
      assert.ok(r.summary.passed);
      const needed = committedPolicy()
        .domains.filter((d) => d.classification !== 'optional')
        .map((d) => d.domain)
        .sort();
      assert.equal(
        codes(r, 'SQLMODEL_ROUND_TRIP_PASS')
          .map((e) => e.domain)
          .sort(),
        needed,
      );
      assert.is(r.summary.drift, 0);
      const trace = traceCorrelation(committedPolicy());
      assert.ok(r.events.every((e) => e.trace_correlation === trace));
      // The round trips were rolled back.
      assert.equal(await store.db.selectFrom('runs').selectAll().execute(), []);
    });
  });

  test(`${dialect}: a column added outside the migrations is caught by name`, async () => {
    await withMigrated(dialect, async (store) => {
      await store.db.schema.alterTable('runs').addColumn('sneaky', 'text').execute();
      await store.db.schema.createIndex('cells_sneaky').on('cells').column('backend').execute();
      const r = await checkStore(store);
      assert.not.ok(r.summary.passed);
      const drift = codes(r, 'SQLMODEL_SCHEMA_DRIFT_DETECTED')
        .map((e) => `${e.domain} | ${e.detail}`)
        .sort();
      assert.equal(drift, ['cells | cells: index cells_sneaky not declared by the models', 'runs | runs.sneaky: column not declared by the models']);
    });
  });

  test(`${dialect}: a changed type or nullability is caught by name`, async () => {
    await withMigrated(dialect, async (store) => {
      await store.db.schema.dropTable('baselines').execute();
      await store.db.schema
        .createTable('baselines')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('name', 'text') // nullable now
        .addColumn('hardware_signature', 'text', (c) => c.notNull())
        .addColumn('engine_variant', 'text', (c) => c.notNull())
        .addColumn('workload', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('cell_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull()) // integer now
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('metrics', 'text', (c) => c.notNull())
        .execute();
      const r = await checkStore(store);
      const drift = codes(r, 'SQLMODEL_SCHEMA_DRIFT_DETECTED').map((e) => e.detail);
      assert.equal(drift, [
        'baselines.created_at: type integer in the live database, text in the models',
        'baselines.name: nullable in the live database, not null in the models',
        'baselines: index baselines_name_signature_cell missing from the live database',
      ]);
    });
  });

  test(`${dialect}: a table outside the policy matrix is an unclassified domain`, async () => {
    await withMigrated(dialect, async (store) => {
      await store.db.schema
        .createTable('side_notes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .execute();
      const r = await checkStore(store);
      assert.equal(
        codes(r, 'SQLMODEL_DOMAIN_UNCLASSIFIED').map((e) => e.domain),
        ['side_notes'],
      );
      assert.equal(
        codes(r, 'SQLMODEL_SCHEMA_DRIFT_DETECTED').map((e) => e.detail),
        ['side_notes: table not declared by the models'],
      );
    });
  });
}

test('a model the matrix does not classify is caught', async () => {
  await withMigrated('sqlite', async (store) => {
    const extra: ModelDef = {
      domain: 'shadow_notes',
      model_name: 'ShadowNoteRow',
      version: '1.0.0',
      schema: z.object({ id: z.string() }),
      primary_key: ['id'],
      indexes: [],
      example: { id: 'x' },
    };
    const r = await checkStore(store, { models: [...MODELS, extra] });
    assert.equal(
      codes(r, 'SQLMODEL_DOMAIN_UNCLASSIFIED').map((e) => e.domain),
      ['shadow_notes'],
    );
    assert.not.ok(r.summary.passed);
  });
});

test('a model changed without a migration: both the migrations and the live database drift from it', async () => {
  await withMigrated('sqlite', async (store) => {
    const runs = MODELS.find((m) => m.domain === 'runs')!;
    const changed: ModelDef = { ...runs, schema: runs.schema.extend({ label: z.string() }), example: { ...runs.example, label: 'x' } };
    const r = await checkStore(store, { models: MODELS.map((m) => (m.domain === 'runs' ? changed : m)) });
    assert.equal(
      codes(r, 'SQLMODEL_SCHEMA_DRIFT_DETECTED').map((e) => e.detail),
      ['runs.label: column missing from the migrations', 'runs.label: column missing from the live database'],
    );
    assert.equal(
      codes(r, 'SQLMODEL_ROUND_TRIP_FAIL').map((e) => e.domain),
      ['runs'],
    );
  });
});

test('a mandatory domain without a typed model is caught', async () => {
  await withMigrated('sqlite', async (store) => {
    const m = matrix();
    m.domains.push({ ...m.domains[0]!, domain: 'leases', model_name: 'LeaseRow', owner_module: 'harness/store/domains/leases.ts' });
    const r = await checkStore(store, { matrix: m });
    assert.equal(
      codes(r, 'SQLMODEL_MODEL_MISSING').map((e) => `${e.domain}: ${e.detail}`),
      ['leases: mandatory domain has no typed model'],
    );
  });
});

test('ownership conflicts are caught: shared owner module, shared model name, owner that does not own', async () => {
  await withMigrated('sqlite', async (store) => {
    const m = matrix();
    const cells = m.domains.find((d) => d.domain === 'cells')!;
    cells.owner_module = 'harness/store/domains/runs.ts';
    const r = await checkStore(store, { matrix: m });
    const conflicts = codes(r, 'SQLMODEL_OWNERSHIP_CONFLICT').map((e) => e.detail);
    assert.ok(conflicts.includes("owner module harness/store/domains/runs.ts is named for domains 'runs' and 'cells'"), conflicts.join('\n'));
    assert.ok(conflicts.includes("owner module harness/store/domains/runs.ts exports 0 accesses for 'cells' (expected 1)"), conflicts.join('\n'));
    assert.not.ok(r.summary.passed);
    assert.is.not(r.summary.trace_correlation, traceCorrelation(committedPolicy()), 'a different matrix, a different trace');

    const m2 = matrix();
    m2.domains.find((d) => d.domain === 'baselines')!.model_name = 'CellRow';
    const r2 = await checkStore(store, { matrix: m2 });
    assert.ok(codes(r2, 'SQLMODEL_OWNERSHIP_CONFLICT').some((e) => e.detail === "model CellRow is claimed by domains 'cells' and 'baselines'"));
  });
});

test('only the owner module gets write access to its domain', () => {
  assert.throws(
    () => ownerAccess(import.meta.url, 'rollout_state'),
    (e: unknown) => e instanceof OwnershipError && /its owner is harness\/store\/domains\/rollout\.ts/.test((e as Error).message),
  );
});

test('the committed matrix: control state, audit log, decision journal and migration metadata are mandatory', () => {
  const m = committedPolicy();
  for (const d of ['rollout_state', 'fallback_events', 'gate_decisions', 'schema_migrations']) {
    assert.is(m.domains.find((x) => x.domain === d)?.classification, 'mandatory', d);
  }
  assert.equal(m.domains.map((d) => d.domain).sort(), MODELS.map((x) => x.domain).sort(), 'one model per domain');
});

test('no module writes tables except through table.ts (and migrations, which only change the schema)', () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith(join('store', 'table.ts')) && !p.includes(join('store', 'migrations'))) {
        const text = readFileSync(p, 'utf8');
        if (/\.(insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(|sql`\s*(insert|update|delete)\b/i.test(text)) offenders.push(p);
      }
    }
  };
  walk(fileURLToPath(new URL('../../harness/', import.meta.url)));
  assert.equal(offenders, []);
});

test('a major version mismatch between matrix and model is caught', async () => {
  await withMigrated('sqlite', async (store) => {
    const m = matrix();
    m.domains.find((d) => d.domain === 'gate_decisions')!.model_version = '2.0.0';
    const r = await checkStore(store, { matrix: m });
    assert.equal(
      codes(r, 'SQLMODEL_VERSION_COMPAT_FAIL').map((e) => e.domain),
      ['gate_decisions'],
    );
  });
});

test('an unmigrated store fails with a version event naming the command', async () => {
  const { store, dispose } = await freshStore('sqlite');
  try {
    const r = await checkStore(store);
    const v = codes(r, 'SQLMODEL_VERSION_COMPAT_FAIL');
    assert.is(v.length, 1);
    assert.match(v[0]!.detail, 'shadowbench store migrate');
    assert.not.ok(r.summary.passed);
  } finally {
    await dispose();
  }
});

test.run();
