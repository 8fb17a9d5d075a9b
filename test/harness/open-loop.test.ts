// Open loop: latency counts from each operation's intended start, so a driver
// that falls behind cannot hide it (coordinated omission); the uncorrected
// service time is kept beside it and late starts are counted.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planMatrix } from '../../harness/plan/matrix.ts';
import { parseModeSets } from '../../harness/plan/modes.ts';
import { runMatrix } from '../../harness/run/runner.ts';
import { loadSpecFile } from '../../harness/spec/load.ts';
import type { WorkloadInput } from '../../harness/spec/schema.ts';

async function runAt(rate: number, name: string) {
  const tmp = mkdtempSync(join(tmpdir(), 'sb-open-'));
  const spec: WorkloadInput = {
    name,
    description: 'open-loop driver test',
    serves: { classes: ['M6'], verification: ['open-loop driver'] },
    backends: ['memory'],
    concurrency: [1],
    engine: { pageSize: 4096, pageCount: 128, fsync: 'off', versionsPerPage: 8 },
    fixture: { rows: 64 },
    mix: { concurrent_write: 1 },
    keys: { distribution: 'uniform' },
    load: { mode: 'open', rate_per_sec: rate },
    run: { duration_ms: 400 },
  };
  const file = join(tmp, `${name}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const groups = planMatrix({ workloads: [loadSpecFile(file)], modeSets: parseModeSets('legacy') });
  const [cell] = await runMatrix({ groups, rounds: 1, seed: 1, faults: {}, schedule: 'interleaved', runDir: join(tmp, 'run') });
  assert.ok(cell !== undefined && cell.status === 'ok', JSON.stringify(cell?.failures));
  const latency = cell.aggregate.histograms.get('op.concurrent_write.latency_ns')!;
  const service = cell.aggregate.histograms.get('op.concurrent_write.service_ns')!;
  const out = {
    late: cell.aggregate.counters.get('op.late_starts') ?? 0,
    ops: cell.operations,
    latencyP90: latency.getValueAtPercentile(90),
    serviceP90: service.getValueAtPercentile(90),
  };
  cell.aggregate.destroy();
  return out;
}

test('a rate the driver cannot keep: late starts are counted and latency includes the queueing', async () => {
  const r = await runAt(1_000_000, 'overloaded');
  assert.ok(r.late > r.ops / 2, `most operations started late (${r.late} of ${r.ops})`);
  assert.ok(r.latencyP90 > 10 * r.serviceP90, `latency from the intended start (${r.latencyP90} ns) dwarfs the service time (${r.serviceP90} ns)`);
});

test("a rate the driver keeps: the schedule caps the operations, never the driver's speed", async () => {
  const r = await runAt(200, 'paced');
  // At most one operation per 5 ms slot of the 400 ms window; the lower bound only guards against a stalled driver.
  assert.ok(r.ops <= 81 && r.ops >= 20, `about 400 ms x 200/s operations, got ${r.ops}`);
});

test.run();
