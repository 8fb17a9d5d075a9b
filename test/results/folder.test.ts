// The results model (harness/results/) against what runs really write: a
// real run of two engines with an injected fault (so fallback events,
// engine descriptions and engines side by side are all present) is written
// and read back equal to what the run held in memory, every field through
// the schema. A run folder from before later fields existed still reads.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineAdapters } from '../../harness/engines/index.ts';
import { runRecordOf, writeRun } from '../../harness/run/record.ts';
import { planMatrix } from '../../harness/plan/matrix.ts';
import { parseModeSets } from '../../harness/plan/modes.ts';
import { readRunFolder, readRunRecord, readRunResults, writeRunFolder } from '../../harness/results/folder.ts';
import { runMatrix } from '../../harness/run/runner.ts';
import { loadSuite } from '../../harness/spec/load.ts';
import { runFolder } from '../store/fixtures.ts';

test('a real run folder reads back as the run held it in memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbtest-results-'));
  try {
    const workloads = loadSuite().filter((w) => w.spec.name === 'commutative-inserts');
    const faults = { M6: { stale_publish: 0.3 }, TXN: { delay_ns: 50 } };
    const groups = planMatrix({ workloads, modeSets: parseModeSets('legacy,shadow_compare'), variants: ['reference', 'sqlite'], backends: ['memory'], concurrency: [2], duration_ms: 300 });
    const start = Date.now();
    const results = await runMatrix({ groups, rounds: 3, seed: 3, faults, runDir: dir, sliceMs: 200, engines: engineAdapters(['reference', 'sqlite'], null) });
    const run = runRecordOf({ run_id: 'results-test', started: new Date(start), ended: new Date(), results, config: { seed: 3, rounds: 3, faults } });
    const written = writeRun(dir, run, results, start, Date.now());
    for (const r of results) r.aggregate.destroy();

    assert.ok(run.cells.some((c) => c.fallback_events.length > 0), 'the fault fired a trigger');
    assert.ok(run.cells.some((c) => c.schedule != null), 'the groups\' plans');
    assert.ok(written.summary.engine_comparison.length > 0, 'engines side by side');
    const back = readRunFolder(dir);
    // Through JSON, as a reader gets it: an undefined field is absent.
    assert.equal(back.run, JSON.parse(JSON.stringify(written.run)));
    assert.equal(back.summary, JSON.parse(JSON.stringify(written.summary)));
    assert.equal([...back.histograms.keys()], run.cells.map((c) => c.id));
    for (const [id, log] of written.histograms) assert.equal(back.histograms.get(id), log, id);
    assert.ok([...back.histograms.values()].some((l) => l.intervals.length > 0));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run folder from before scoped faults, warm-up rounds, variants, not_reported and engines side by side still reads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbtest-old-'));
  try {
    writeRunFolder(dir, runFolder());
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as Record<string, unknown> & { config: Record<string, unknown>; cells: Record<string, unknown>[] };
    delete run.config['warmup_rounds'];
    delete run.config['variants'];
    delete run.config['nightly'];
    delete run.config['mode_set_faults'];
    for (const c of run.cells) {
      delete c['not_reported'];
      delete c['faults'];
    }
    writeFileSync(join(dir, 'run.json'), JSON.stringify(run));
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
    delete summary['engine_comparison'];
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
    const r = readRunResults(dir);
    assert.equal(r.summary.engine_comparison, []);
    assert.is(r.run.cells[0]!.not_reported, undefined);
    assert.is(r.run.cells[0]!.faults, undefined);
    assert.is(readRunFolder(dir).histograms.size, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('not a run record: another format, or no JSON object at all', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbtest-notrun-'));
  try {
    for (const text of ['{"format":"shadowbench-gate","version":1}', '[1,2]', 'null']) {
      writeFileSync(join(dir, 'run.json'), text);
      assert.throws(() => readRunRecord(dir), (e: Error) => e.message === `${join(dir, 'run.json')}: not a shadowbench-run version 1 record`, text);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
