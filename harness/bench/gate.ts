// `npm run bench:gate`: how far the regression verdict can be trusted on this
// machine, at the nightly's shape per cell (rounds × duration).
//
// Every run holds two named arms of the same mode set, interleaved round by
// round (A B A B …). A/A: the arms are identical, so a good gate flags
// nothing, within a run (arm a vs arm b) or across runs (run i's arm a vs run
// i+1's, which is what a nightly's baseline comparison sees). Sensitivity: a
// delay on M6's path scoped to arm b, sized to slow a transaction by 2%, 5%,
// 10% and 20%; detected when any metric of the cell is a regression after
// Holm. Every comparison is `compareCells`, the statistics of `compare`,
// `nightly` and the gate.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compareCells } from '../gate/compare.ts';
import { runRecordOf, type CellRecord } from '../output/write.ts';
import { planMatrix } from '../plan/matrix.ts';
import { applyInjections, parseModeSets } from '../plan/modes.ts';
import { runMatrix } from '../run/runner.ts';
import { loadSuite } from '../spec/load.ts';
import { NIGHTLY_SHAPE } from '../nightly/shape.ts';

const { values } = parseArgs({
  options: {
    aa: { type: 'string', default: '20' }, reps: { type: 'string', default: '10' }, rounds: { type: 'string', default: String(NIGHTLY_SHAPE.defaultRounds) },
    duration: { type: 'string', default: String(NIGHTLY_SHAPE.max_duration_ms) }, concurrency: { type: 'string', default: '1' }, json: { type: 'boolean' },
  },
});
const aaRuns = Number(values.aa);
const reps = Number(values.reps);
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const concurrency = Number(values.concurrency);
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const workload = loadSuite().find((w) => w.spec.name === 'commutative-inserts')!;
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-gate-'));

/** One run of arms a and b (interleaved), with `inject` scoped as given; returns the two cells. */
async function pair(seed: number, inject: string[]): Promise<[CellRecord, CellRecord]> {
  const { faults, modeSets } = applyInjections(inject, parseModeSets('a:legacy,b:legacy'));
  const groups = planMatrix({ workloads: [workload], modeSets, backends: ['memory'], concurrency: [concurrency], duration_ms: duration });
  const runDir = join(dir, `s${seed}`);
  const results = await runMatrix({ groups, rounds, seed, faults, schedule: 'interleaved', runDir });
  const run = runRecordOf({ run_id: `s${seed}`, started: new Date(), ended: new Date(), results, config: { seed, rounds } });
  for (const r of results) r.aggregate.destroy();
  rmSync(runDir, { recursive: true, force: true });
  return [run.cells[0]!, run.cells[1]!];
}

interface Judgement { flagged: boolean; regressed: string[]; improved: string[] }
const judge = (a: CellRecord, b: CellRecord): Judgement => {
  const cs = compareCells('bench', a, b);
  return {
    flagged: cs.some((c) => c.outcome === 'regressed' || c.outcome === 'improved'),
    regressed: cs.filter((c) => c.outcome === 'regressed').map((c) => c.metric),
    improved: cs.filter((c) => c.outcome === 'improved').map((c) => c.metric),
  };
};

// A/A, within each run and between consecutive runs.
const aa: [CellRecord, CellRecord][] = [];
for (let i = 0; i < aaRuns; i++) {
  aa.push(await pair(100 + i, []));
  log(`A/A run ${i + 1}/${aaRuns}`);
}
const aaWithin = aa.map(([a, b]) => judge(a, b));
const aaAcross = aa.slice(1).map(([a], i) => judge(aa[i]![0], a));

// The median transaction time of the A/A runs sets the delay per M6 operation.
const p50s = aa.flatMap(([a]) => a.rounds.map((r) => r.latency_ns['concurrent_write']?.p50 ?? 0)).sort((x, y) => x - y);
const p50 = p50s[Math.floor(p50s.length / 2)]!;
// A concurrent write transaction binds M6 once and publishes once: two M6 operations.
const M6_OPS_PER_TXN = 2;
const sensitivity = [];
for (const slowdown of [0.02, 0.05, 0.1, 0.2]) {
  const delay_ns = Math.round((p50 * slowdown) / M6_OPS_PER_TXN);
  const within: Judgement[] = [];
  const across: Judgement[] = [];
  const measured: number[] = [];
  for (let k = 0; k < reps; k++) {
    const [a, b] = await pair(200 + k, [`M6.delay_ns=${delay_ns}@b`]);
    within.push(judge(a, b));
    across.push(judge(aa[k % aa.length]![0], b));
    measured.push(b.throughput_ops_s / a.throughput_ops_s - 1);
  }
  const hit = (js: Judgement[]): number => js.filter((j) => j.regressed.length > 0).length;
  sensitivity.push({ slowdown, delay_ns, measured_throughput_change: measured.sort((x, y) => x - y)[Math.floor(reps / 2)]!, within: hit(within), across: hit(across) });
  log(`slowdown ${(slowdown * 100).toFixed(0)}% (${delay_ns} ns per M6 op): flagged ${hit(within)}/${reps} within a run, ${hit(across)}/${reps} across runs`);
}
rmSync(dir, { recursive: true, force: true });

const clean = (js: Judgement[]): number => js.filter((j) => !j.flagged).length;
const out = {
  workload: 'commutative-inserts', backend: 'memory', concurrency, rounds, duration_ms: duration,
  aa: { runs: aaRuns, within_clean: clean(aaWithin), across_clean: clean(aaAcross), across_pairs: aaAcross.length, within: aaWithin, across: aaAcross },
  baseline_p50_ns: p50, reps, sensitivity,
};
if (values.json === true) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
else {
  const w = process.stdout.write.bind(process.stdout);
  w(`bench:gate — commutative-inserts, memory, c${concurrency}, ${rounds} interleaved rounds of ${duration} ms per arm\n`);
  w(`A/A within a run:  ${clean(aaWithin)} of ${aaRuns} pairs with nothing flagged\n`);
  w(`A/A across runs:   ${clean(aaAcross)} of ${aaAcross.length} pairs with nothing flagged\n`);
  w(`median write transaction: ${(p50 / 1000).toFixed(1)} µs\n`);
  w(`injected slowdown | delay per M6 op | measured throughput change | flagged within a run | flagged across runs\n`);
  for (const s of sensitivity) {
    w(`${`${(s.slowdown * 100).toFixed(0)}%`.padStart(17)} | ${`${s.delay_ns} ns`.padStart(15)} | ${`${(s.measured_throughput_change * 100).toFixed(1)}%`.padStart(26)} | ${`${s.within}/${reps}`.padStart(20)} | ${`${s.across}/${reps}`.padStart(19)}\n`);
  }
}
process.exit(0);
