// The whole chain from an injected fault to the verdict, on a real run: a
// stale M6 publication shows as diverged shadow verdicts, fires M6's
// trigger, forces M6 back to legacy mid-run (the audit event) and makes the
// gate roll M6 back; an injected M11 misroute does the same for M11. The
// other switchable classes are not rolled back by the fault of another.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultConfig } from '../../engine/index.ts';
import { buildReport, loadGateInput } from '../../harness/gate/report.ts';
import { runRecordOf, writeRun } from '../../harness/run/record.ts';
import { planMatrix } from '../../harness/plan/matrix.ts';
import { parseModeSets } from '../../harness/plan/modes.ts';
import { runMatrix } from '../../harness/run/runner.ts';
import { loadSuite } from '../../harness/spec/load.ts';

async function chain(workload: string, faults: FaultConfig) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-chain-'));
  try {
    const groups = planMatrix({
      workloads: loadSuite().filter((w) => w.spec.name === workload),
      modeSets: parseModeSets('legacy,shadow_compare,new'),
      backends: ['memory'],
      concurrency: [2],
      duration_ms: 400,
    });
    const runDir = join(dir, 'run');
    const start = Date.now();
    // Shadow comparisons happen at fresh begins (writes mostly reuse their retained transaction): a few slices' worth.
    const results = await runMatrix({ groups, rounds: 3, seed: 4, faults, schedule: 'interleaved', runDir, sliceMs: 200 });
    const run = runRecordOf({ run_id: 'chain', started: new Date(start), ended: new Date(), results, config: { seed: 4, rounds: 3, faults } });
    writeRun(runDir, run, results, start, Date.now());
    for (const r of results) r.aggregate.destroy();
    const input = loadGateInput(runDir);
    return { run, counters: input.counters, report: buildReport(input) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a stale M6 publication: diverged verdicts, a fired trigger, a live fallback, rollback', async () => {
  const { run, counters, report } = await chain('commutative-inserts', { M6: { stale_publish: 0.3 } });
  const shadow = run.cells.find((c) => c.mode_set === 'shadow_compare')!;
  assert.ok((counters.get(shadow.id)?.['M6.shadow_verdict.diverged'] ?? 0) > 0, 'shadow_compare recorded diverged verdicts');
  const fallbacks = run.cells.flatMap((c) => c.fallback_events).filter((e) => e.metadata_class === 'M6' && e.action === 'force_legacy');
  assert.ok(fallbacks.length > 0, 'M6 was forced to legacy mid-run');
  assert.ok(
    fallbacks.some((e) => e.trigger === 'M6.shadow_mismatch'),
    fallbacks.map((e) => e.trigger).join(', '),
  );
  const m6 = report.verdicts.find((v) => v.metadata_class === 'M6')!;
  assert.is(m6.verdict, 'rollback', m6.reasons.join('\n'));
  assert.ok(
    m6.reasons.some((r) => r.includes('fallback trigger fired')),
    m6.reasons.join('\n'),
  );
  assert.is.not(report.verdicts.find((v) => v.metadata_class === 'M11')!.verdict, 'rollback', 'an M6 fault does not roll M11 back');
});

test('an M11 misroute: session_not_found, a fired trigger, a live fallback, rollback', async () => {
  const { run, counters, report } = await chain('commutative-inserts', { M11: { misroute: 0.3 } });
  const touched = run.cells.filter((c) => c.control_modes.M11 !== 'legacy');
  const misses = touched.reduce(
    (n, c) =>
      n +
      Object.entries(counters.get(c.id) ?? {})
        .filter(([k]) => k === 'M11.session_not_found.true' || k === 'M11.shadow_verdict.diverged')
        .reduce((s, [, v]) => s + v, 0),
    0,
  );
  assert.ok(misses > 0, 'the misroutes were seen');
  const fallbacks = run.cells.flatMap((c) => c.fallback_events).filter((e) => e.metadata_class === 'M11' && e.action === 'force_legacy');
  assert.ok(fallbacks.length > 0, 'M11 was forced to legacy mid-run');
  const m11 = report.verdicts.find((v) => v.metadata_class === 'M11')!;
  assert.is(m11.verdict, 'rollback', m11.reasons.join('\n'));
  assert.is.not(report.verdicts.find((v) => v.metadata_class === 'M6')!.verdict, 'rollback', 'an M11 fault does not roll M6 back');
});

test.run();
