// Stored runs read back as the results model's RunFigures, cells included,
// and a nightly's history is one query on an index: the runs of one baseline
// name and hardware signature, the newest `limit` but one excepted, oldest
// first. On real SQLite and PostgreSQL; on SQLite the query plan is checked.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, type KyselyPlugin } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '../../harness/results/record.ts';
import type { Store } from '../../harness/store/connect.ts';
import type { Database as Schema } from '../../harness/store/database.ts';
import { recordCells } from '../../harness/store/domains/cells.ts';
import { nightlyRuns, recordRun, runRow, storedRun } from '../../harness/store/domains/runs.ts';
import { migrateTo } from '../../harness/store/migrate.ts';
import { DIALECTS, freshStore } from './databases.ts';
import { cell, run } from './fixtures.ts';

const { not_reported: _n, ...withoutNotReported } = cell;

/** A run of nightly `name` on `hw`, started on day `day`, with two cells. */
function night(id: string, name: string | null, hw: string, day: number): RunRecord {
  const started = `2026-03-${String(day).padStart(2, '0')}T02:00:00.000Z`;
  return {
    ...run,
    run_id: id,
    started_at: started,
    ended_at: started,
    config: { ...run.config, nightly: name },
    environment: { ...run.environment, hardware_signature: hw },
    // a-cell comes from a run folder older than not_reported.
    cells: [
      { ...cell, id: 'b-cell', throughput_ops_s: day },
      { ...withoutNotReported, id: 'a-cell' },
    ],
  };
}

async function store(s: Store, r: RunRecord): Promise<void> {
  await recordRun(s, runRow(r, null));
  await recordCells(s, r.run_id, r.cells);
}

/** Counts the statements a store runs. */
function counting(s: Store): { store: Store; count: () => number } {
  let n = 0;
  const plugin: KyselyPlugin = { transformQuery: (a) => (n++, a.node), transformResult: (a) => Promise.resolve(a.result) };
  return { store: { ...s, db: s.db.withPlugin(plugin) }, count: () => n };
}

for (const dialect of DIALECTS) {
  test(`${dialect}: a nightly's history is one query; stored runs read back as run figures`, async () => {
    const { store: s, dispose } = await freshStore(dialect);
    try {
      await migrateTo(s);
      // Stored out of order, with other names, other hardware and a run that is no nightly.
      const runs = [
        night('n5', 'nightly', 'hw', 5),
        night('n1', 'nightly', 'hw', 1),
        night('n3', 'nightly', 'hw', 3),
        night('n4', 'nightly', 'hw', 4),
        night('n2', 'nightly', 'hw', 2),
        night('other-hw', 'nightly', 'hw2', 6),
        night('other-name', 'weekly', 'hw', 6),
        night('plain', null, 'hw', 6),
      ];
      for (const r of runs) await store(s, r);

      const c = counting(s);
      const history = await nightlyRuns(c.store, { name: 'nightly', hardware_signature: 'hw', except: 'n5', limit: 3 });
      assert.is(c.count(), 1, 'one statement');
      assert.equal(
        history.map((r) => r.run_id),
        ['n2', 'n3', 'n4'],
        'the newest three but n5, oldest first',
      );
      assert.equal(
        history[0]!.cells.map((x) => [x.id, x.throughput_ops_s]),
        [
          ['a-cell', cell.throughput_ops_s],
          ['b-cell', 2],
        ],
      );
      assert.equal(
        (await nightlyRuns(s, { name: 'nightly', hardware_signature: 'hw', except: '', limit: 30 })).map((r) => r.run_id),
        ['n1', 'n2', 'n3', 'n4', 'n5'],
      );
      assert.equal(await nightlyRuns(s, { name: 'nightly', hardware_signature: 'nope', except: '', limit: 30 }), []);

      // A stored run is its run record's figures: everything but the audit log, faults and counterexample files.
      const { format: _f, version: _v, totals: _t, ...figures } = night('n3', 'nightly', 'hw', 3);
      const strip = ({ faults: _a, fallback_events: _b, counterexamples: _c, ...rest }: RunRecord['cells'][number]) => rest;
      assert.equal(await storedRun(s, 'n3'), { ...figures, cells: [...figures.cells].reverse().map(strip) });
      assert.is(await storedRun(s, 'nope'), null);
    } finally {
      await dispose();
    }
  });
}

test('sqlite: the history query uses the nightly index and the cells index', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbtest-plan-'));
  const sqlite = new Database(join(dir, 'plan.db'));
  const logged: { sql: string; parameters: readonly unknown[] }[] = [];
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }), log: (e) => void logged.push(e.query) });
  const s: Store = { target: { dialect: 'sqlite', path: join(dir, 'plan.db') }, dialect: 'sqlite', db, close: () => db.destroy() };
  try {
    await migrateTo(s);
    logged.length = 0;
    await nightlyRuns(s, { name: 'nightly', hardware_signature: 'hw', except: '', limit: 5 });
    assert.is(logged.length, 1);
    const plan = sqlite.prepare(`explain query plan ${logged[0]!.sql}`).all(...(logged[0]!.parameters as unknown[])) as { detail: string }[];
    const text = plan.map((p) => p.detail).join('\n');
    assert.match(text, /USING INDEX runs_nightly_signature_started/, text);
    assert.match(text, /USING INDEX cells_run_id/, text);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
