// The owner modules against real SQLite and PostgreSQL: a RunRecord and its
// cells go in and come back equal; rollout state keeps one row per variant and
// class with the latest change; histograms survive the HdrHistogram encoding;
// audit-log, journal, trigger and baseline rows round-trip; invalid rows are
// refused before they reach the database.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as hdr from 'hdr-histogram-js';
import { ensureReady } from '../../harness/store/migrate.ts';
import { acceptBaseline, baselineOf } from '../../harness/store/domains/baselines.ts';
import { annotationsFor, recordAnnotation } from '../../harness/store/domains/annotations.ts';
import { cellRow, cellsOfRun, recordCells } from '../../harness/store/domains/cells.ts';
import { decisionsOf, recordDecision } from '../../harness/store/domains/decisions.ts';
import { fallbacksOf, recordFallback } from '../../harness/store/domains/fallbacks.ts';
import { decodeHistogram, histogramRow, histogramsOfCell, recordHistogram } from '../../harness/store/domains/histograms.ts';
import { controlState, setControlMode } from '../../harness/store/domains/rollout.ts';
import { getRun, recordRun, runRow } from '../../harness/store/domains/runs.ts';
import { evaluationsOf, recordTriggerEvaluation } from '../../harness/store/domains/triggers.ts';
import { migrateTo } from '../../harness/store/migrate.ts';
import { histogramLog } from '../../harness/results/hlog.ts';
import { ModelValidationError } from '../../harness/store/table.ts';
import { DIALECTS, freshStore } from './databases.ts';
import { cell, run } from './fixtures.ts';

for (const dialect of DIALECTS) {
  test(`${dialect}: owner modules write and read their domains`, async () => {
    const { store, dispose } = await freshStore(dialect);
    try {
      if (dialect === 'sqlite') await ensureReady(store);
      else await migrateTo(store);

      await recordRun(store, runRow(run, null));
      await recordCells(store, run.run_id, run.cells);
      assert.equal(await getRun(store, run.run_id), runRow(run, null));
      assert.equal(await cellsOfRun(store, run.run_id), [cellRow(run.run_id, cell)]);
      assert.is(await getRun(store, 'nope'), undefined);

      const t = '2026-01-01T00:00:00.000Z';
      await setControlMode(store, {
        engine_variant: 'v',
        metadata_class: 'M6',
        control_mode: 'shadow_compare',
        changed_by: 'alice',
        changed_at: t,
        reason: 'start',
      });
      await setControlMode(store, {
        engine_variant: 'v',
        metadata_class: 'M6',
        control_mode: 'snapshot',
        changed_by: 'bob',
        changed_at: '2026-01-02T00:00:00.000Z',
        reason: 'promoted',
      });
      await setControlMode(store, { engine_variant: 'v', metadata_class: 'M1', control_mode: 'legacy', changed_by: 'alice', changed_at: t, reason: '' });
      assert.equal(
        (await controlState(store, 'v')).map((r) => `${r.metadata_class}=${r.control_mode} by ${r.changed_by}`),
        ['M1=legacy by alice', 'M6=snapshot by bob'],
      );

      const fb = {
        id: 'fb1',
        occurred_at: t,
        engine_variant: 'v',
        metadata_class: 'M11',
        from_mode: 'sharded',
        to_mode: 'legacy',
        reason: 'misroute',
        actor: 'trigger',
        run_id: run.run_id,
      } as const;
      await recordFallback(store, fb);
      assert.equal(await fallbacksOf(store, 'v'), [fb]);
      const gd = {
        id: 'gd1',
        decided_at: t,
        engine_variant: 'v',
        metadata_class: 'M6',
        decision: 'hold',
        from_mode: 'shadow_compare',
        to_mode: null,
        rationale: 'gaps',
        evidence: { runs: [run.run_id], p99: 1.5 },
        decided_by: 'ci',
      } as const;
      await recordDecision(store, gd);
      assert.equal(await decisionsOf(store, 'v'), [gd]);
      const te = {
        id: 'te1',
        run_id: null,
        trigger: 'p99',
        engine_variant: 'v',
        metadata_class: 'M2',
        evaluated_at: t,
        fired: false,
        observed: 0.25,
        threshold: null,
        detail: {},
      } as const;
      await recordTriggerEvaluation(store, te);
      assert.equal(await evaluationsOf(store, 'p99'), [te]);
      const bl = {
        id: 'bl1',
        name: 'main',
        hardware_signature: 'hw',
        engine_variant: 'v',
        workload: 'w',
        run_id: run.run_id,
        cell_id: cell.id,
        created_at: t,
        created_by: 'ci',
        metrics: { p99_ns: 1234.5 },
      };
      await acceptBaseline(store, 'main', 'hw', [bl, { ...bl, id: 'bl2', cell_id: 'other' }]);
      const other = { ...bl, id: 'bl3', hardware_signature: 'hw2' };
      await acceptBaseline(store, 'main', 'hw2', [other]);
      // Accepting again replaces that signature's baseline as a whole, and only that one.
      const next = { ...bl, id: 'bl4', run_id: 'r2' };
      await acceptBaseline(store, 'main', 'hw', [next]);
      assert.equal(await baselineOf(store, 'main', 'hw'), [next]);
      assert.equal(await baselineOf(store, 'main', 'hw2'), [other]);
      const ack = {
        id: 'ma2',
        kind: 'acknowledge',
        hardware_signature: 'hw',
        metric: `${cell.id}:throughput_ops_s`,
        at_run: run.run_id,
        reason: 'new allocator',
        created_by: 'alice',
        created_at: '2026-01-03T00:00:00.000Z',
      } as const;
      const mute = {
        id: 'ma1',
        kind: 'mute',
        hardware_signature: 'hw',
        metric: 'x:*',
        at_run: null,
        reason: 'flaky host',
        created_by: 'bob',
        created_at: t,
      } as const;
      await recordAnnotation(store, ack);
      await recordAnnotation(store, mute);
      assert.equal(await annotationsFor(store, 'hw'), [mute, ack], 'oldest first');

      const h = hdr.build({ bitBucketSize: 64, useWebAssembly: false });
      for (let i = 1; i <= 1000; i++) h.recordValue(i * 1000);
      const [interval] = histogramLog(cell.id, new Map([['latency.read', h]]), 1, 2).intervals;
      await recordHistogram(store, histogramRow(run.run_id, cell.id, interval!));
      const [stored] = await histogramsOfCell(store, run.run_id, cell.id);
      const back = decodeHistogram(stored!);
      assert.is(back.totalCount, 1000);
      assert.is(back.getValueAtPercentile(99), h.getValueAtPercentile(99));
      h.destroy();
      back.destroy();
    } finally {
      await dispose();
    }
  });
}

test('rows that break their model are refused before the database', async () => {
  const { store, dispose } = await freshStore('sqlite');
  try {
    await ensureReady(store);
    const bad = [
      // A local time with an offset: timestamps are UTC only.
      () =>
        setControlMode(store, {
          engine_variant: 'v',
          metadata_class: 'M6',
          control_mode: 'snapshot',
          changed_by: 'x',
          changed_at: '2026-01-01T01:00:00+01:00',
          reason: '',
        }),
      // M2 has no new primitive, so no rollout state.
      () =>
        setControlMode(store, {
          engine_variant: 'v',
          metadata_class: 'M2' as 'M6',
          control_mode: 'legacy',
          changed_by: 'x',
          changed_at: '2026-01-01T00:00:00Z',
          reason: '',
        }),
      () => recordCells(store, 'r', [{ ...cell, concurrency: 1.5 }]),
    ];
    for (const f of bad) {
      let err: unknown;
      try {
        await f();
      } catch (e) {
        err = e;
      }
      assert.instance(err, ModelValidationError, String(err));
    }
    assert.equal(await controlState(store, 'v'), []);
    assert.equal(await cellsOfRun(store, 'r'), []);
  } finally {
    await dispose();
  }
});

test.run();
