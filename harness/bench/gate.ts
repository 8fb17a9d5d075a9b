// `npm run bench:gate`: how trustworthy the regression verdict is on this
// machine. A/A: the same configuration against itself under different seeds
// (a good gate flags nothing); sensitivity: an injected delay on M6's path
// sized to slow operations by 2%, 5%, 10% and 20% (a good gate flags the
// large ones). Every comparison is `compareRuns`, the same statistics as
// `shadowbench compare` and the gate.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSuite } from '../spec/load.ts';
import { planMatrix } from '../plan/matrix.ts';
import { parseModeSets } from '../plan/modes.ts';
import { runMatrix } from '../run/runner.ts';
import { cellRecord, type RunRecord } from '../output/write.ts';
import { runEnvironment } from '../output/environment.ts';
import { compareRuns } from '../gate/compare.ts';
import type { FaultConfig } from '../../engine/index.ts';

const { values } = parseArgs({ options: { pairs: { type: 'string', default: '20' }, rounds: { type: 'string', default: '6' }, duration: { type: 'string', default: '400' }, json: { type: 'boolean' } } });
const pairs = Number(values.pairs);
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const workload = loadSuite().find((w) => w.spec.name === 'commutative-inserts')!;
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-gate-'));
const environment = runEnvironment();

async function run(seed: number, faults: FaultConfig): Promise<RunRecord> {
  const groups = planMatrix({ workloads: [workload], modeSets: parseModeSets('legacy'), backends: ['memory'], concurrency: [2], duration_ms: duration });
  const results = await runMatrix({ groups, rounds, seed, faults, schedule: 'interleaved', runDir: join(dir, `s${seed}-${JSON.stringify(faults).length}`) });
  const cells = results.map(cellRecord);
  for (const r of results) r.aggregate.destroy();
  return {
    format: 'shadowbench-run', version: 1, run_id: `seed-${seed}`, started_at: '', ended_at: '', argv: [],
    config: { seed, rounds, schedule: 'interleaved', quick: false, duration_ms: duration, mode_sets: ['legacy'], workloads: [], backends: null, concurrency: null, faults, window_ms: 500, trace_recorded: false, replay_of: null },
    engine: null, environment, schedule_note: null, cells, totals: { cells: cells.length, failed: 0, with_gaps: 0, correctness_failures: 0, fallbacks: 0 },
  };
}

const verdict = (a: RunRecord, b: RunRecord): { regressions: number; improvements: number; outcomes: string[] } => {
  const c = compareRuns(a, b);
  return { regressions: c.regressions, improvements: c.improvements, outcomes: c.comparisons.map((x) => `${x.metric}:${x.outcome}`) };
};

// A/A: consecutive runs of the same configuration, different seeds.
const aa: RunRecord[] = [];
for (let i = 0; i <= pairs; i++) {
  aa.push(await run(100 + i, {}));
  log(`A/A run ${i + 1}/${pairs + 1}`);
}
const aaResults = aa.slice(1).map((b, i) => verdict(aa[i]!, b));
const aaClean = aaResults.filter((r) => r.regressions === 0 && r.improvements === 0).length;

// Sensitivity: the baseline's median operation service time sets the delay per M6 operation.
const base = aa[0]!;
const p50 = base.cells[0]!.rounds.map((r) => r.latency_ns['concurrent_write']?.p50 ?? 0).sort((x, y) => x - y)[Math.floor(rounds / 2)]!;
// A concurrent write transaction binds M6 once and publishes once: two M6 operations.
const M6_OPS_PER_TXN = 2;
const levels = [0.02, 0.05, 0.1, 0.2].map((slowdown) => ({ slowdown, delay_ns: Math.round((p50 * slowdown) / M6_OPS_PER_TXN) }));
const sensitivity = [];
for (const l of levels) {
  const slow = await run(100, { M6: { delay_ns: l.delay_ns } });
  const v = verdict(base, slow);
  sensitivity.push({ ...l, detected: v.regressions > 0, ...v });
  log(`injected ${(l.slowdown * 100).toFixed(0)}% (${l.delay_ns} ns per M6 op): ${v.regressions > 0 ? 'regression flagged' : 'not flagged'}`);
}

const out = { workload: 'commutative-inserts', backend: 'memory', concurrency: 2, rounds, duration_ms: duration, aa: { pairs, clean: aaClean, results: aaResults }, baseline_p50_ns: p50, sensitivity };
if (values.json === true) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
else {
  process.stdout.write(`bench:gate — commutative-inserts, memory, c2, ${rounds} rounds of ${duration} ms per run\n`);
  process.stdout.write(`A/A: ${aaClean} of ${pairs} pairs with no regression and no improvement flagged\n`);
  process.stdout.write(`baseline p50 of a write transaction: ${(p50 / 1000).toFixed(1)} µs\n`);
  for (const s of sensitivity) process.stdout.write(`slowdown ${(s.slowdown * 100).toFixed(0).padStart(2)}% (${s.delay_ns} ns per M6 op): ${s.detected ? 'FLAGGED' : 'not flagged'}  [${s.outcomes.join(', ')}]\n`);
}
process.exit(0);
