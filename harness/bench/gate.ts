// `npm run bench:gate`: how far the regression verdict can be trusted on this
// machine, at the nightly's shape per cell (rounds × duration, one warm-up
// round).
//
// Every run holds named arms of the same mode set, interleaved round by
// round: `a` and `b` identical (A/A), and `s2`, `s5`, `s10`, `s20` (or
// `--levels`) with a delay on M6's path scoped to them, sized to slow a
// transaction by 2%, 5%, 10% and 20%. Within a run an arm is compared with `a` round by round
// (paired, as the gate compares modes); across runs, with the previous run's
// `a` (unpaired, as a nightly compares with its baseline). A comparison
// flags when any metric of the cell is a regression or an improvement after
// Holm. Every comparison is `compareCells`, the statistics of `compare`,
// `nightly` and the gate.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compareCells } from '../gate/compare.ts';
import { DEFAULT_GATE } from '../gate/options.ts';
import { runRecordOf, type CellRecord } from '../output/write.ts';
import { planMatrix } from '../plan/matrix.ts';
import { applyInjections, parseModeSets } from '../plan/modes.ts';
import { runMatrix } from '../run/runner.ts';
import { loadSuite } from '../spec/load.ts';
import { NIGHTLY_SHAPE } from '../nightly/shape.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' }, rounds: { type: 'string', default: String(NIGHTLY_SHAPE.defaultRounds) },
    duration: { type: 'string', default: String(NIGHTLY_SHAPE.sliceMs) }, concurrency: { type: 'string', default: '1' }, json: { type: 'boolean' },
    levels: { type: 'string', default: '0.02,0.05,0.1,0.2' },
  },
});
const runs = Number(values.runs);
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const concurrency = Number(values.concurrency);
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const workload = loadSuite().find((w) => w.spec.name === 'commutative-inserts')!;
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-gate-'));
const LEVELS = values.levels.split(',').map(Number);
if (LEVELS.some((l) => !(l > 0 && l < 10))) throw new Error(`--levels: slowdowns as fractions, e.g. 0.02,0.05, got '${values.levels}'`);
const arm = (slowdown: number): string => `s${Math.round(slowdown * 100)}`;

/** One interleaved run of the given arms with their scoped injections; its cells by arm. */
async function run(seed: number, arms: string, inject: string[], nRounds: number): Promise<Map<string, CellRecord>> {
  const { faults, modeSets } = applyInjections(inject, parseModeSets(arms));
  const groups = planMatrix({ workloads: [workload], modeSets, backends: ['memory'], concurrency: [concurrency], duration_ms: duration });
  const runDir = join(dir, `s${seed}`);
  const results = await runMatrix({ groups, rounds: nRounds, warmupRounds: 1, seed, faults, runDir, sliceMs: duration });
  const record = runRecordOf({ run_id: `s${seed}`, started: new Date(), ended: new Date(), results, config: { seed, rounds: nRounds } });
  for (const r of results) r.aggregate.destroy();
  rmSync(runDir, { recursive: true, force: true });
  return new Map(record.cells.map((c) => [c.mode_set, c]));
}

interface Judgement { flagged: boolean; regressed: string[]; improved: string[] }
const judge = (a: CellRecord, b: CellRecord, sameRun: boolean): Judgement => {
  // Deciding metrics only: tails are reported by the gate, never a verdict.
  const cs = compareCells('bench', a, b, DEFAULT_GATE, sameRun).filter((c) => c.deciding);
  return {
    flagged: cs.some((c) => c.outcome === 'regressed' || c.outcome === 'improved'),
    regressed: cs.filter((c) => c.outcome === 'regressed').map((c) => c.metric),
    improved: cs.filter((c) => c.outcome === 'improved').map((c) => c.metric),
  };
};

// The median transaction time sets the delay per M6 operation.
const calibration = (await run(99, 'a:legacy', [], 3)).get('a')!;
const p50s = calibration.rounds.map((r) => r.latency_ns['concurrent_write']?.p50 ?? 0).sort((x, y) => x - y);
const p50 = p50s[Math.floor(p50s.length / 2)]!;
// A concurrent write transaction binds M6 once and publishes once: two M6 operations.
const M6_OPS_PER_TXN = 2;
const delays = LEVELS.map((s) => ({ slowdown: s, delay_ns: Math.round((p50 * s) / M6_OPS_PER_TXN) }));
const arms = ['a:legacy', 'b:legacy', ...LEVELS.map((s) => `${arm(s)}:legacy`)].join(',');
const inject = delays.map((d) => `M6.delay_ns=${d.delay_ns}@${arm(d.slowdown)}`);

const cells: Map<string, CellRecord>[] = [];
for (let i = 0; i < runs; i++) {
  cells.push(await run(100 + i, arms, inject, rounds));
  log(`run ${i + 1}/${runs}`);
}
rmSync(dir, { recursive: true, force: true });

const within = (name: string): Judgement[] => cells.map((c) => judge(c.get('a')!, c.get(name)!, true));
const across = (name: string): Judgement[] => cells.slice(1).map((c, i) => judge(cells[i]!.get('a')!, c.get(name)!, false));
const clean = (js: Judgement[]): number => js.filter((j) => !j.flagged).length;
const caught = (js: Judgement[]): number => js.filter((j) => j.regressed.length > 0).length;
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const aaWithin = within('b');
const aaAcross = across('a');
const sensitivity = delays.map((d) => ({
  ...d,
  measured_p50_change: median(cells.map((c) => c.get(arm(d.slowdown))!.rounds.reduce((s, r, k) => s + Math.log((r.latency_ns['concurrent_write']?.p50 ?? 1) / (c.get('a')!.rounds[k]!.latency_ns['concurrent_write']?.p50 ?? 1)), 0) / rounds).map(Math.exp)) - 1,
  within: caught(within(arm(d.slowdown))), across: caught(across(arm(d.slowdown))),
}));

const out = {
  workload: 'commutative-inserts', backend: 'memory', concurrency, rounds, warmup_rounds: 1, duration_ms: duration, runs, baseline_p50_ns: p50,
  aa: { within_clean: clean(aaWithin), within_pairs: aaWithin.length, across_clean: clean(aaAcross), across_pairs: aaAcross.length, within: aaWithin, across: aaAcross },
  sensitivity,
};
if (values.json === true) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
else {
  const w = process.stdout.write.bind(process.stdout);
  w(`bench:gate — commutative-inserts, memory, c${concurrency}; ${runs} runs of ${2 + LEVELS.length} interleaved arms, ${rounds} rounds of ${duration} ms each (+1 warm-up)\n`);
  w(`A/A within a run (paired):   ${clean(aaWithin)} of ${aaWithin.length} pairs with nothing flagged\n`);
  w(`A/A across runs (unpaired):  ${clean(aaAcross)} of ${aaAcross.length} pairs with nothing flagged\n`);
  w(`median write transaction: ${(p50 / 1000).toFixed(1)} µs\n`);
  w(`injected slowdown | delay per M6 op | measured p50 change | regression flagged within a run | across runs\n`);
  for (const s of sensitivity) {
    w(`${`${(s.slowdown * 100).toFixed(0)}%`.padStart(17)} | ${`${s.delay_ns} ns`.padStart(15)} | ${`${(s.measured_p50_change * 100).toFixed(1)}%`.padStart(19)} | ${`${s.within}/${runs}`.padStart(31)} | ${`${s.across}/${runs - 1}`.padStart(11)}\n`);
  }
}
process.exit(0);
