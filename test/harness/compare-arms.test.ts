// `shadowbench compare RUN --arms A,B` on a real small run (memory, c1, three
// arms of 100 ms rounds, one with a large M6 delay): the slowed arm is a
// regression (exit 1) with change, ci, p, mde and outcome per metric; two
// identical arms never exit 0 unless their MDE lets them say no change (else
// 3, or 0 with --accept-inconclusive); bad arms exit 2 naming the cause.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArmsError, compareArms } from '../../harness/gate/compare.ts';
import { runCli } from '../support/cli.ts';
import { syntheticNight, QUICK } from '../support/synthetic-night.ts';

interface Metric {
  cell: string;
  metric: string;
  deciding: boolean;
  change: number;
  ci: { lower: number; upper: number } | null;
  p: number | null;
  p_adjusted: number | null;
  mde: number | null;
  outcome: string;
}
interface Out {
  metrics: Metric[];
  regressions: number;
  inconclusive: number;
  exit_code: number;
  baseline_run: string;
  candidate_run: string;
}

const dir = mkdtempSync(join(tmpdir(), 'sb-arms-'));
let runDir = '';

test.before(async () => {
  const r = await runCli([
    'run',
    '--workload',
    'commutative-inserts',
    '--backend',
    'memory',
    '--concurrency',
    '1',
    '--modes',
    'a:legacy,b:legacy,slow:legacy',
    '--inject',
    'M6.delay_ns=300000@slow',
    '--rounds',
    '5',
    '--duration',
    '100',
    '--out',
    dir,
    '--json',
    '-q',
  ]);
  assert.is(r.code, 0, r.stderr);
  runDir = (JSON.parse(r.stdout) as { run_dir: string }).run_dir;
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const compare = async (...args: string[]) => {
  const r = await runCli(['compare', runDir, ...args]);
  return { ...r, json: r.stdout.trim().startsWith('{') ? (JSON.parse(r.stdout) as Out) : null };
};

test('the slowed arm against its baseline: a regression, every metric with change, ci, p, mde, outcome', async () => {
  const r = await compare('--arms', 'a,slow', '--json');
  assert.is(r.code, 1, r.stdout + r.stderr);
  const j = r.json!;
  assert.is(j.exit_code, 1);
  assert.ok(j.baseline_run.endsWith(':a') && j.candidate_run.endsWith(':slow'));
  const p50 = j.metrics.find((m) => m.metric === 'concurrent_write.latency_p50_ns')!;
  assert.is(p50.outcome, 'regressed');
  assert.ok(p50.change > 1 && p50.ci!.lower > 0 && p50.p! < 0.01 && p50.mde !== null && p50.mde > 0, JSON.stringify(p50));
  for (const m of j.metrics) for (const k of ['change', 'ci', 'p', 'p_adjusted', 'mde', 'outcome']) assert.ok(k in m, `${m.metric} has ${k}`);
  assert.is(j.metrics.find((m) => m.metric.endsWith('p99_ns'))!.deciding, false, 'tails are reported, not deciding');
  const text = await compare('--arms', 'a,slow');
  assert.match(text.stdout, /MDE/);
  assert.match(text.stdout, /\d+ regression\(s\)/);
});

test('two identical arms: no regression; inconclusive (exit 3) unless the MDE is within --max-mde, 0 when accepted', async () => {
  const r = await compare('--arms', 'a,b', '--json');
  const j = r.json!;
  assert.is(j.regressions, 0, JSON.stringify(j.metrics));
  assert.is(r.code, j.inconclusive > 0 ? 3 : 0);
  for (const m of j.metrics.filter((x) => x.deciding && x.outcome === 'no_change')) assert.ok(m.mde !== null && m.mde <= 0.1, JSON.stringify(m));
  assert.is((await compare('--arms', 'a,b', '--accept-inconclusive')).code, 0);
});

test('bad arms exit 2 naming the cause; so do arms that share no cell', async () => {
  const cases: [string[], RegExp][] = [
    [['--arms', 'a,a'], /'a' is named twice/],
    [['--arms', 'a,nope'], /no arm 'nope' in run .* \(its arms: a, b, slow\)/],
    [['--arms', 'a'], /--arms takes two arm labels A,B, got 'a'/],
  ];
  for (const [args, message] of cases) {
    const r = await compare(...args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  // Arm x ran one workload, arm y another: nothing pairs.
  const run = syntheticNight('x', 1, QUICK);
  const x = run.cells.find((c) => c.id === 'reference.commutative-inserts.memory.c1.legacy')!;
  const y = run.cells.find((c) => c.id === 'reference.hot-page-contention.memory.c1.legacy')!;
  run.cells = [
    { ...x, mode_set: 'x' },
    { ...y, mode_set: 'y' },
  ];
  assert.throws(
    () => compareArms(run, 'x', 'y'),
    (e: Error) =>
      e instanceof ArmsError &&
      /share no cell .*x ran reference\.commutative-inserts\.memory\.c1; y ran reference\.hot-page-contention\.memory\.c1/.test(e.message),
  );
});

test('gate on a run whose pairs cannot see 10%: inconclusive, exit 3 (0 with --accept-inconclusive); the hold says how blind', async () => {
  const run = syntheticNight('blind', 3, QUICK);
  const folder = join(dir, 'blind');
  mkdirSync(folder);
  writeFileSync(join(folder, 'run.json'), JSON.stringify(run));
  writeFileSync(
    join(folder, 'summary.json'),
    JSON.stringify({ run_id: run.run_id, cells: run.cells.map((c) => ({ id: c.id, throughput_ops_s: c.throughput_ops_s, counters: {}, histograms: {} })) }),
  );
  const r = await runCli(['gate', folder, '--json']);
  assert.is(r.code, 3, r.stderr);
  const verdicts = (JSON.parse(r.stdout) as { verdicts: { verdict: string; inconclusive: boolean; reasons: string[] }[] }).verdicts;
  assert.ok(
    verdicts.some(
      (v) =>
        v.inconclusive && v.reasons.some((x) => /^hold: inconclusive — .* could miss a change larger than 10\.0% \(minimum detectable effect up to \d/.test(x)),
    ),
    JSON.stringify(verdicts.map((v) => v.reasons)),
  );
  assert.is((await runCli(['gate', folder, '--accept-inconclusive'])).code, 0);
  const help = await runCli(['gate', '--help']);
  for (const x of ['--max-mde', '--accept-inconclusive', '3 inconclusive']) assert.ok(help.stdout.includes(x), x);
});

test('--help documents the arms, the JSON and every exit status', async () => {
  const r = await runCli(['compare', '--help']);
  assert.is(r.code, 0);
  for (const s of ['--arms A,B', 'mde', 'Exit status: 0 no regression', '1 a regression', '2 bad input', '3 inconclusive', '--accept-inconclusive'])
    assert.ok(r.stdout.includes(s), s);
});

test.run();
