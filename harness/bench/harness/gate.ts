// `npm run bench:gate [-- --json]`: how far the verdicts can be trusted on
// this machine, measured the way they are made. Every figure of issue 14's
// table, re-measured:
//
// - within a run (paired slices, as the gate compares mode sets): arms `a`
//   and `b` identical (A/A), `t5` and `t10` with TXN.delay_ns sized from `a`'s
//   measured operation time to add 5% and 10%; commutative-inserts memory c1
//   and hot-page-contention memory c4;
// - across runs, as a nightly judges its baseline: the first run's `a` is the
//   baseline; each later run's `a` (A/A) and `t10` (+10%) are compared with it
//   unpaired, and a change counts only where the nightly would fail on it: it
//   must also stand outside the spread of the runs before it (the night-to-night
//   noise test, once NOISE_NIGHTS runs are there; before that a nightly calls
//   it suspect, as here);
// Every run has the nightly's twin arm (run/twin.ts), whose readings put the
// runs at one machine speed.
// - consecutive nightlies of the same commit into a fresh store: wall time,
//   exit status, rollbacks held, and the median MDE of the c1 cells.
//
// A comparison is flagged when a deciding metric is a regression or an
// improvement after Holm (`compareCells`, the statistics of `compare`, the
// nightly and the gate). A benchmark: it prints figures, never asserts.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { median } from 'simple-statistics';
import { stableJson } from '../../shared/json.ts';
import { compareCells } from '../../gate/compare.ts';
import type { Comparison } from '../../gate/comparison.ts';
import { variance } from '../../gate/mde.ts';
import { DEFAULT_GATE, type GateOptions } from '../../gate/options.ts';
import { busiestKind, metricsAtSpeed, metricsOf, yardstickLevel } from '../../gate/series.ts';
import { nightNoise, type NightNoise } from '../../nightly/noise.ts';
import { expectedNightHits, spreadForHits } from './night-power.ts';
import { DEFAULT_NOISE_NIGHTS, NIGHT_GATE, NIGHTLY_SHAPE } from '../../nightly/shape.ts';
import { runRecordOf } from '../../run/record.ts';
import type { CellRecord } from '../../results/record.ts';
import { planMatrix } from '../../plan/matrix.ts';
import { applyInjections, parseModeSets } from '../../plan/modes.ts';
import { runMatrix } from '../../run/runner.ts';
import { twinYardstick } from '../../run/twin.ts';
import { TWIN_BUILD } from '../../runtime/yardstick.ts';
import { loadSuite } from '../../spec/load.ts';

const USAGE = `Usage: npm run bench:gate -- [options]

Re-measures how far shadowbench's verdicts can be trusted on this machine:
A/A and TXN-delay slowdowns of 5% and 10% within a run and across runs, and
consecutive nightlies of the same commit (wall time, exit, rollbacks, MDE).
Takes 20-40 minutes with the defaults, with the machine's speed.

Options:
  --runs N        runs per within-run scenario (default 20)
  --rounds N      measured rounds per run (default ${NIGHTLY_SHAPE.defaultRounds}, the nightly's)
  --duration MS   slice length (default ${NIGHTLY_SHAPE.sliceMs}, the nightly's)
  --nights N      consecutive nightlies of this commit (default 5; 0 skips them)
  --json          print the figures as one JSON object on stdout
  -h, --help      show this help
Progress goes to stderr.
`;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    rounds: { type: 'string', default: String(NIGHTLY_SHAPE.defaultRounds) },
    duration: { type: 'string', default: String(NIGHTLY_SHAPE.sliceMs) },
    nights: { type: 'string', default: '5' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help === true) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const int = (name: string, v: string, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`bench:gate: --${name} must be an integer >= ${min}, got '${v}'\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const runs = int('runs', values.runs, 2);
const rounds = int('rounds', values.rounds, 2);
const sliceMs = int('duration', values.duration, 1);
const nights = int('nights', values.nights, 0);
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-gate-'));
const suite = loadSuite();
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Scenario {
  name: string;
  workload: string;
  concurrency: number;
}
const C1: Scenario = { name: 'commutative-inserts memory c1', workload: 'commutative-inserts', concurrency: 1 };
const C4: Scenario = { name: 'hot-page-contention memory c4', workload: 'hot-page-contention', concurrency: 4 };

/** One run of the given arms with their scoped injections; its cells by arm. */
async function run(s: Scenario, seed: number, arms: string, inject: string[], nRounds: number): Promise<Map<string, CellRecord>> {
  const { faults, modeSets } = applyInjections(inject, parseModeSets(arms));
  const workload = suite.find((w) => w.spec.name === s.workload)!;
  const groups = planMatrix({ workloads: [workload], modeSets, backends: ['memory'], concurrency: [s.concurrency], duration_ms: sliceMs });
  const runDir = join(dir, `${s.workload}-${seed}`);
  const results = await runMatrix({ groups, rounds: nRounds, warmupRounds: 1, sliceMs, seed, faults, runDir, twin: TWIN_BUILD });
  const record = runRecordOf({
    run_id: `s${seed}`,
    started: new Date(),
    ended: new Date(),
    results,
    config: { seed, rounds: nRounds, yardstick: twinYardstick(TWIN_BUILD) },
  });
  for (const r of results) r.aggregate.destroy();
  rmSync(runDir, { recursive: true, force: true });
  return new Map(record.cells.map((c) => [c.mode_set, c]));
}

interface Judgement {
  flagged: boolean;
  regressed: boolean;
  comparisons: { metric: string; change: number; p_adjusted: number | null; mde: number | null; outcome: string }[];
}

/** The deciding comparisons of `b` against `a`, judged together (paired by round when they share a run). */
function judge(a: CellRecord, b: CellRecord, sameRun: boolean, options: GateOptions = DEFAULT_GATE): Judgement {
  const cs: Comparison[] = compareCells('bench', a, b, options, sameRun).filter((c) => c.deciding);
  return {
    flagged: cs.some((c) => c.outcome === 'regressed' || c.outcome === 'improved'),
    regressed: cs.some((c) => c.outcome === 'regressed'),
    comparisons: cs.map((c) => ({ metric: c.metric, change: c.relative_diff, p_adjusted: c.p_adjusted, mde: c.mde, outcome: c.outcome })),
  };
}

/** The median operation time (ns) of an arm: the median over rounds of its busiest kind's p50. */
function opTimeNs(c: CellRecord): number {
  const kind = busiestKind(c)!;
  return median(c.rounds.map((r) => r.latency_ns[kind]!.p50));
}

/** The paired change an arm's busiest kind's median latency measured against `a`'s, over one run. */
function measuredChange(a: CellRecord, b: CellRecord): number {
  const kind = busiestKind(a)!;
  const byRound = new Map(a.rounds.map((r) => [r.round, r.latency_ns[kind]?.p50 ?? NaN]));
  const lr = b.rounds.map((r) => Math.log((r.latency_ns[kind]?.p50 ?? NaN) / byRound.get(r.round)!)).filter(Number.isFinite);
  return Math.expm1(lr.reduce((s, x) => s + x, 0) / lr.length);
}

interface WithinRun {
  scenario: string;
  op_time_ns: number;
  delays_ns: Record<string, number>;
  aa_flagged: number;
  slowdowns: { arm: string; nominal: number; delay_ns: number; measured_change: number; flagged: number }[];
  runs: number;
  mde_median: number | null;
  judgements: { run: number; aa: Judgement; slowdowns: Record<string, Judgement> }[];
  cells: Map<string, CellRecord>[];
}

/** Within-run figures of one scenario, with TXN delays sized from a calibration run's operation time. */
async function withinRun(s: Scenario, levels: readonly number[]): Promise<WithinRun> {
  const opTime = opTimeNs((await run(s, 99, 'a:legacy', [], 6)).get('a')!);
  const arm = (l: number): string => `t${Math.round(l * 100)}`;
  const delays = Object.fromEntries(levels.map((l) => [arm(l), Math.round(opTime * l)]));
  const arms = ['a:legacy', 'b:legacy', ...levels.map((l) => `${arm(l)}:legacy`)].join(',');
  const inject = levels.map((l) => `TXN.delay_ns=${delays[arm(l)]}@${arm(l)}`);
  const cells: Map<string, CellRecord>[] = [];
  const judgements: WithinRun['judgements'] = [];
  for (let i = 0; i < runs; i++) {
    const c = await run(s, 100 + i, arms, inject, rounds);
    cells.push(c);
    judgements.push({
      run: i,
      aa: judge(c.get('a')!, c.get('b')!, true),
      slowdowns: Object.fromEntries(levels.map((l) => [arm(l), judge(c.get('a')!, c.get(arm(l))!, true)])),
    });
    log(`  ${s.name}: run ${i + 1}/${runs}`);
  }
  const mdes = judgements.flatMap((j) => j.aa.comparisons.map((c) => c.mde ?? Infinity));
  return {
    scenario: s.name,
    op_time_ns: opTime,
    delays_ns: delays,
    runs,
    aa_flagged: judgements.filter((j) => j.aa.flagged).length,
    slowdowns: levels.map((l) => ({
      arm: arm(l),
      nominal: l,
      delay_ns: delays[arm(l)]!,
      measured_change: median(cells.map((c) => measuredChange(c.get('a')!, c.get(arm(l))!))),
      flagged: judgements.filter((j) => j.slowdowns[arm(l)]!.regressed).length,
    })),
    mde_median: mdes.length === 0 ? null : median(mdes),
    judgements,
    cells,
  };
}

interface Night {
  night: number;
  exit_code: number;
  wall_s: number;
  rollbacks: string[];
  /** Each rollback's first reason. */
  rollback_reasons: string[];
  /** What the night listed as known, not failed (a rollback the baseline had too, or a regression no larger than the baseline's). */
  known: string[];
  /** The fewest and most measured rounds a cell ran (the nightly's time budget trims them on a slow machine). */
  rounds: { least: number; most: number } | null;
  c1_mde_median: number | null;
  /** The machine's speed that night: the median twin reading of commutative-inserts memory c1's rounds (ns; a slower machine reads more). */
  yardstick_ns: number | null;
}

/** Consecutive nightlies of this commit into a fresh store, the first accepted as the baseline. */
async function nightlies(n: number): Promise<Night[]> {
  const out: Night[] = [];
  const store = join(dir, 'nightly.db');
  for (let i = 0; i < n; i++) {
    const t0 = Date.now();
    const args = [
      join(ROOT, 'bin/shadowbench.js'),
      'nightly',
      '--store',
      store,
      '--out',
      join(dir, 'nights'),
      '--json',
      '-q',
      ...(i === 0 ? ['--accept'] : []),
    ];
    const { code, stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 256 * 1024 * 1024 }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '' }),
    );
    const wall = (Date.now() - t0) / 1000;
    let rollbacks: string[] = [];
    let reasons: string[] = [];
    let known: string[] = [];
    let rounds: Night['rounds'] = null;
    let mde: number | null = null;
    let yardstick: number | null = null;
    try {
      const report = JSON.parse(stdout) as { run_id: string; known: string[]; run: { rounds: { least: number; most: number } } };
      known = report.known;
      rounds = report.run.rounds;
      const gate = JSON.parse(readFileSync(join(dir, 'nights', report.run_id, 'gate.json'), 'utf8')) as {
        verdicts: {
          metadata_class: string;
          verdict: string;
          reasons: string[];
          comparisons: { cell_group: string; deciding: boolean; mde: number | null }[];
        }[];
      };
      const rolledBack = gate.verdicts.filter((v) => v.verdict === 'rollback');
      rollbacks = rolledBack.map((v) => v.metadata_class);
      // The night's folder goes with the bench's: an A/A night that rolls back says why here.
      reasons = rolledBack.map((v) => `${v.metadata_class}: ${v.reasons[0] ?? ''}`);
      const c1 = gate.verdicts
        .flatMap((v) => v.comparisons)
        .filter((c) => c.deciding && /\.c1$/.test(c.cell_group))
        .map((c) => c.mde ?? Infinity);
      mde = c1.length === 0 ? null : median(c1);
      const run = JSON.parse(readFileSync(join(dir, 'nights', report.run_id, 'run.json'), 'utf8')) as {
        cells: { id: string; rounds: { yardstick_ns?: number | null }[] }[];
      };
      // The twin's readings are each group's own operation time: the commutative-inserts memory c1 group's compare night to night.
      const readings = run.cells
        .filter((c) => c.id.startsWith('reference.commutative-inserts.memory.c1.'))
        .flatMap((c) => c.rounds.flatMap((r) => (typeof r.yardstick_ns === 'number' ? [r.yardstick_ns] : [])));
      yardstick = readings.length === 0 ? null : median(readings);
    } catch (err) {
      log(`  night ${i + 1}: no report (${(err as Error).message})`);
    }
    out.push({
      night: i + 1,
      exit_code: code,
      wall_s: Math.round(wall),
      rollbacks,
      rollback_reasons: reasons,
      known,
      rounds,
      c1_mde_median: mde,
      yardstick_ns: yardstick,
    });
    log(
      `  night ${i + 1}/${n}: exit ${code}, ${Math.round(wall)} s (twin c1 ${yardstick === null ? '-' : `${(yardstick / 1000).toFixed(1)} µs`}), ` +
        `${rounds === null ? '' : `${rounds.least === rounds.most ? rounds.most : `${rounds.least}-${rounds.most}`} rounds, `}rollbacks [${rollbacks.join(', ')}], c1 MDE ${mde === null ? '-' : `${(mde * 100).toFixed(1)}%`}`,
    );
    for (const r of reasons) log(`    ${r}`);
    for (const k of known) log(`    known, not failed: ${k}`);
  }
  return out;
}

log(`bench:gate: ${runs} runs per scenario, ${rounds} rounds of ${sliceMs} ms slices, ${nights} nightlies`);
const c1 = await withinRun(C1, [0.05, 0.1]);
const c4 = await withinRun(C4, [0.05]);
// Across runs, as a nightly: run 0's `a` is the baseline; run i (i >= 1) against it, unpaired, and against the spread of runs 0..i-1.
const baselineArm = c1.cells[0]!.get('a')!;
/** A run's value of the deciding metric as the nightly takes it: the median of its rounds' busiest-kind p50, at the machine speed `ref` (the yardstick's reading) when given. */
const nightValueOf = (c: CellRecord, ref: number | null): number => {
  const metric = `${busiestKind(c)!}.latency_p50_ns`;
  return median(((ref === null ? null : metricsAtSpeed(c, ref)) ?? metricsOf(c)).get(metric)!.values);
};
const asNightly = (i: number, arm: string): Judgement & { noise: NightNoise | null } => {
  const tonight = c1.cells[i]!.get(arm)!;
  const j = judge(baselineArm, tonight, false, NIGHT_GATE);
  // As the nightly: every night at tonight's machine speed.
  const ref = yardstickLevel(tonight);
  const past = c1.cells.slice(0, i).map((c) => nightValueOf(c.get('a')!, ref));
  const noise = past.length >= DEFAULT_NOISE_NIGHTS ? nightNoise(past, nightValueOf(tonight, ref), NIGHT_GATE.alpha, DEFAULT_GATE.power) : null;
  // A change inside the night-to-night noise, or before the noise is known, is suspect: not a failure.
  const counts = noise !== null && noise.outside;
  return { ...j, flagged: j.flagged && counts, regressed: j.regressed && counts, noise };
};
const across = c1.cells.slice(1).map((_, k) => ({ run: k + 1, aa: asNightly(k + 1, 'a'), t10: asNightly(k + 1, 't10') }));
// Before the noise is known a nightly calls every regression suspect: the +10% row counts the runs after that.
const judged = across.filter((x) => x.t10.noise !== null);
/** Of the judged +10% runs, how many each of the nightly's two tests found on its own (a night fails only where both do). */
const t10Found = {
  baseline_run: judged.filter((x) => x.t10.comparisons.some((c) => c.outcome === 'regressed')).length,
  night_noise: judged.filter((x) => x.t10.noise!.outside).length,
};
/** The spread of the runs' `a` values (sd of log): as measured, and at one machine speed (the first run's). */
const sdLog = (xs: number[]): number => Math.sqrt(variance(xs.map(Math.log)));
const runToRun = {
  as_measured: sdLog(c1.cells.map((c) => nightValueOf(c.get('a')!, null))),
  at_one_speed: sdLog(c1.cells.map((c) => nightValueOf(c.get('a')!, yardstickLevel(baselineArm)))),
};
const t10c1 = c1.slowdowns.find((s) => s.arm === 't10')!;
/**
 * What the night-to-night test can find at this spread, with these histories: a count below it is bad luck or a
 * flaw of the test; a target above it needs less spread (reported), not another test.
 */
const t10Target = Math.ceil((judged.length * 17) / 19);
const histories = judged.map((x) => x.t10.noise!.nights);
const nightPower =
  judged.length === 0
    ? null
    : {
        expected_t10_flagged: expectedNightHits(runToRun.at_one_speed, t10c1.measured_change, histories, NIGHT_GATE.alpha, DEFAULT_GATE.power),
        sd_log_for_target: spreadForHits(t10Target, t10c1.measured_change, histories, NIGHT_GATE.alpha, DEFAULT_GATE.power),
      };
const nightsOut = await nightlies(nights);
rmSync(dir, { recursive: true, force: true });

const pct = (x: number | null): string => (x === null ? '-' : Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '∞');
const t5 = (w: WithinRun): WithinRun['slowdowns'][number] => w.slowdowns.find((s) => s.arm === 't5')!;
const nightMdes = nightsOut.map((n) => n.c1_mde_median).filter((x): x is number => x !== null);
const rows: { what: string; reached: string; target: string; met: boolean | null }[] = [
  {
    what: 'A/A within a run (paired), pairs flagged either way',
    reached: `${c1.aa_flagged}/${runs}`,
    target: `≤ ${Math.floor(runs / 20)}/${runs}`,
    met: c1.aa_flagged <= Math.floor(runs / 20),
  },
  {
    what: `+5% TXN delay flagged within a run, ${C1.name} (measured ${pct(t5(c1).measured_change)})`,
    reached: `${t5(c1).flagged}/${runs}`,
    target: `≥ ${Math.ceil(runs * 0.9)}/${runs}`,
    met: t5(c1).flagged >= Math.ceil(runs * 0.9),
  },
  {
    what: `same, ${C4.name} (measured ${pct(t5(c4).measured_change)})`,
    reached: `${t5(c4).flagged}/${runs}`,
    target: `≥ ${Math.ceil(runs * 0.8)}/${runs}`,
    met: t5(c4).flagged >= Math.ceil(runs * 0.8),
  },
  {
    what: 'A/A across runs (as nightly vs baseline) flagged',
    reached: `${across.filter((x) => x.aa.flagged).length}/${across.length}`,
    target: `≤ ${Math.floor((across.length * 2) / 19)}/${across.length}`,
    met: across.filter((x) => x.aa.flagged).length <= Math.floor((across.length * 2) / 19),
  },
  {
    what: `+10% flagged across runs, once ${DEFAULT_NOISE_NIGHTS} runs show the night-to-night noise (measured within a run ${pct(t10c1.measured_change)})`,
    reached:
      `${judged.filter((x) => x.t10.regressed).length}/${judged.length}` +
      (nightPower === null
        ? ''
        : ` (the night-to-night test expects ${nightPower.expected_t10_flagged.toFixed(1)} at the spread measured, ${runToRun.at_one_speed.toFixed(3)}; ${t10Target} needs ≤ ${nightPower.sd_log_for_target.toFixed(3)})`) +
      `; found by the test against the baseline run ${t10Found.baseline_run}, by the night-to-night test ${t10Found.night_noise}`,
    target: `≥ ${t10Target}/${judged.length}`,
    met: judged.length > 0 && judged.filter((x) => x.t10.regressed).length >= t10Target,
  },
  {
    what: "median MDE of the nightly's c1 cells",
    reached: nightMdes.length === 0 ? '-' : pct(median(nightMdes)),
    target: '≤ 5%',
    met: nightMdes.length === 0 ? null : median(nightMdes) <= 0.05,
  },
  {
    what: 'nightly wall time, 2 cores (longest night)',
    reached:
      nightsOut.length === 0
        ? '-'
        : `${Math.floor(Math.max(...nightsOut.map((n) => n.wall_s)) / 60)} min ${Math.max(...nightsOut.map((n) => n.wall_s)) % 60} s`,
    target: '≤ 3 min',
    met: nightsOut.length === 0 ? null : Math.max(...nightsOut.map((n) => n.wall_s)) <= 180,
  },
  {
    what: 'consecutive A/A nights of the quick suite (same commit) that fail or hold a rollback',
    reached: `${nightsOut.filter((n) => n.exit_code === 1 || n.rollbacks.length > 0).length} of ${nightsOut.length}`,
    target: `0 of ${nightsOut.length}`,
    met: nightsOut.length === 0 ? null : nightsOut.every((n) => n.exit_code !== 1 && n.rollbacks.length === 0),
  },
];

const strip = (w: WithinRun): Omit<WithinRun, 'cells'> => {
  const { cells: _cells, ...rest } = w;
  return rest;
};
const report = {
  schema: 'shadowbench.bench.gate/2',
  runs,
  rounds,
  slice_ms: sliceMs,
  warmup_rounds: 1,
  within: [strip(c1), strip(c4)],
  across: {
    sd_log: runToRun,
    night_test_power: nightPower,
    pairs: across.length,
    aa_flagged: across.filter((x) => x.aa.flagged).length,
    t10_flagged: across.filter((x) => x.t10.regressed).length,
    t10_found: t10Found,
    judgements: across,
  },
  nights: nightsOut,
  targets: rows,
};
if (values.json === true) process.stdout.write(`${stableJson(report)}\n`);
else {
  const w = (s: string): void => void process.stdout.write(`${s}\n`);
  w(`bench:gate — ${runs} runs per scenario of ${rounds} paired rounds of ${sliceMs} ms slices (+1 warm-up round), ${nights} nightlies`);
  w(
    `operation time: ${C1.name} ${(c1.op_time_ns / 1000).toFixed(1)} µs, ${C4.name} ${(c4.op_time_ns / 1000).toFixed(1)} µs; A/A MDE (median of deciding comparisons): ${pct(c1.mde_median)} and ${pct(c4.mde_median)}`,
  );
  w(
    `run-to-run sd of the c1 median (log): ${runToRun.as_measured.toFixed(4)} as measured, ${runToRun.at_one_speed.toFixed(4)} at one machine speed (the twin)`,
  );
  w('');
  for (const r of rows) w(`${r.met === null ? ' ' : r.met ? '✓' : '✗'} ${r.what}: ${r.reached} (target ${r.target})`);
}
process.exit(0);
