// The SQLite comparator through the real runner (piscina worker threads, real
// SQLite files in WAL mode): every canonical workload on both backends runs
// clean, with the card classes SQLite cannot report listed rather than
// flagged as gaps; a deterministic workload reaches, on both backends, after
// its rounds of slices, exactly the state its op streams imply.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineAdapters } from '../../harness/engines/index.ts';
import { planMatrix } from '../../harness/plan/matrix.ts';
import { parseModeSets } from '../../harness/plan/modes.ts';
import { runMatrix } from '../../harness/run/runner.ts';
import { resolveWorkloads } from '../../harness/spec/load.ts';
import { expectedRowsHash, tinySpec } from '../support/engines.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sb-sqlite-'));
const engines = engineAdapters(['sqlite'], null);

test('every canonical workload runs against SQLite on each of its backends', async () => {
  const workloads = resolveWorkloads([]);
  assert.is(workloads.length, 6);
  const groups = planMatrix({ workloads, modeSets: parseModeSets(undefined), variants: ['sqlite'], quick: true, concurrency: [2], duration_ms: 250 });
  const backends = new Set(groups.map((g) => `${g.cells[0]!.workload.spec.name}.${g.cells[0]!.backend}`));
  for (const w of workloads) for (const b of w.spec.backends) assert.ok(backends.has(`${w.spec.name}.${b}`), `${w.spec.name} on ${b} planned`);
  assert.ok(
    groups.every((g) => g.cells.length === 1 && g.cells[0]!.modeSet.label === 'n/a'),
    'one mode set, n/a',
  );

  const results = await runMatrix({ groups, rounds: 1, seed: 3, faults: {}, schedule: 'interleaved', runDir: join(tmp, 'canonical'), engines });
  assert.is(results.length, groups.length);
  for (const r of results) {
    const id = r.cell.id;
    assert.ok(id.startsWith('sqlite.') && !id.endsWith('.n_a'), id);
    assert.equal(r.failures, [], `${id} failed`);
    assert.equal(r.gaps, [], `${id}: classes SQLite does not report are not gaps`);
    assert.ok(r.not_reported.length > 0 && r.not_reported.every((n) => /^M\d+ \(/.test(n)), `${id} lists what it cannot report`);
    assert.ok(r.operations > 0, `${id} ran operations`);
    assert.is(r.engine !== null && 'variant' in r.engine ? r.engine.variant : null, 'sqlite');
    const spec = r.cell.workload.spec;
    const counters = r.aggregate.counters;
    for (const [kind, weight] of Object.entries(spec.mix)) {
      if (weight >= 1) assert.ok((counters.get(`op.${kind}.ok`) ?? 0) > 0, `${id}: ${kind} operations succeeded`);
    }
    if (spec.mix.write + spec.mix.concurrent_write > 0) assert.ok((counters.get('sqlite.commits') ?? 0) > 0, `${id} counted commits`);
  }
  const churn = results.find((r) => r.cell.workload.spec.name === 'checkpoint-churn')!;
  assert.ok((churn.aggregate.counters.get('op.checkpoint.ok') ?? 0) > 0, 'checkpoints ran');
  const ddl = results.find((r) => r.cell.workload.spec.name === 'visibility-schema-change' && r.cell.backend === 'file')!;
  assert.ok((ddl.aggregate.counters.get('op.ddl.ok') ?? 0) > 0, 'ALTER TABLE ran');
  for (const r of results) r.aggregate.destroy();
});

test('a deterministic workload reaches the state its op streams imply, on both backends', async () => {
  const w = tinySpec('sqlite-tiny');
  const groups = planMatrix({ workloads: [w], modeSets: parseModeSets(undefined), variants: ['sqlite'] });
  assert.ok(groups.every((g) => g.cells[0]!.deterministic));
  const results = await runMatrix({ groups, rounds: 2, seed: 11, faults: {}, schedule: 'interleaved', runDir: join(tmp, 'tiny'), engines });
  const want = expectedRowsHash(w, 11, 2);
  assert.equal(results.map((r) => r.cell.backend).sort(), ['file', 'memory']);
  for (const r of results) {
    assert.equal(r.failures, [], r.cell.id);
    assert.equal(
      r.rounds.map((x) => x.state_hash),
      [null, want],
      `${r.cell.id}: final state, after the last round`,
    );
    for (const k of ['read', 'write', 'concurrent_write', 'prepare', 'checkpoint', 'wait'])
      assert.ok((r.aggregate.counters.get(`op.${k}.ok`) ?? 0) > 0, `${r.cell.id}: ${k}`);
    r.aggregate.destroy();
  }
});

test.run();
