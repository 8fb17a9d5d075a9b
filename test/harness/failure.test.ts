// Failures: a worker thread killed mid-run fails its group (every mode set of
// it: they share the connection threads) with a message naming the
// connection, keeps what was measured before, the next group still runs, and
// the run folder is written intact. Bad command lines exit 2 naming the problem.

import { test } from 'uvu';
import { runCli as cli } from '../support/cli.ts';
import { assertRunRefuses } from '../support/usage.ts';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import { runEnvironment } from '../../harness/output/environment.ts';
import { runRecordOf, writeRun } from '../../harness/run/record.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { planMatrix } from '../../harness/plan/matrix.ts';
import { parseModeSets } from '../../harness/plan/modes.ts';
import { runMatrix, type CellResult } from '../../harness/run/runner.ts';
import { EXIT_USAGE } from '../../harness/cli/verb.ts';
import { loadSpecFile } from '../../harness/spec/load.ts';
import type { WorkloadInput } from '../../harness/spec/schema.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin/shadowbench.js');
const tmp = mkdtempSync(join(tmpdir(), 'sb-fail-'));

test('a killed worker fails its group naming the connection; the next group runs; the run folder is intact', async () => {
  const workload: WorkloadInput = {
    name: 'kill-me',
    description: 'duration-bound open-loop workload for the worker-death test',
    serves: { classes: ['M6'], verification: ['harness failure test'] },
    backends: ['memory'],
    concurrency: [2, 1],
    engine: { pageSize: 4096, pageCount: 128, fsync: 'normal', versionsPerPage: 8 },
    fixture: { rows: 64 },
    mix: { read: 1, concurrent_write: 1 },
    keys: { distribution: 'disjoint' },
    // Open loop at a low rate: a worker spends nearly all its time between
    // operations, so it is almost never killed while holding an engine lock,
    // which would leave the surviving connection waiting on it (2 s per
    // attempt for the writer lock, forever for an engine mutex). No retries,
    // so even then the survivor gives up after one busy wait.
    load: { mode: 'open', rate_per_sec: 50 },
    transaction: { statements: 2, max_retries: 0 },
    run: { duration_ms: 1500 },
    warmup: { operations: 5 },
  };
  const file = join(tmp, 'kill-me.json');
  writeFileSync(file, JSON.stringify(workload));
  const groups = planMatrix({ workloads: [loadSpecFile(file)], modeSets: parseModeSets('legacy,new') });
  assert.equal(
    groups.flatMap((g) => g.cells.map((c) => c.id.replace('reference.kill-me.memory.', ''))),
    ['c2.legacy', 'c2.new', 'c1.legacy', 'c1.new'],
  );

  const pools: Piscina[] = [];
  let killed: { cell: string; threadId: number } | null = null;
  const windowsAfterKill = new Map<string, number>();
  const runDir = join(tmp, 'run');
  const startMs = Date.now();
  const started = new Date(startMs);
  // Two rounds: the kill lands after the first (windows arrive once a round's interleaved slices are done), in the second.
  const matrix = runMatrix({
    groups,
    rounds: 2,
    seed: 3,
    faults: {},
    schedule: 'interleaved',
    runDir,
    sliceMs: 100,
    onPool: (pool) => pools.push(pool),
    onWindow: (cell) => {
      if (killed === null && cell.concurrency === 2) {
        const thread = pools[0]?.threads[0];
        assert.ok(thread !== undefined, 'the pool has threads');
        killed = { cell: cell.id, threadId: thread.threadId };
        void thread.terminate();
      } else if (killed !== null) {
        windowsAfterKill.set(cell.id, (windowsAfterKill.get(cell.id) ?? 0) + 1);
      }
    },
  });
  // A guard, not a timing assertion: if the run hangs, end it rather than the test process.
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), 60_000);
  });
  const outcome = await Promise.race([matrix, hung]);
  clearTimeout(timer);
  if (outcome === 'hung') {
    await Promise.all(pools.map((p) => p.destroy()));
    assert.unreachable('runMatrix did not finish within 60 s after a worker was killed');
  }
  const results = outcome as CellResult[];

  assert.ok(killed !== null, 'a worker was killed');
  assert.is(pools.length, 1, 'one pool for the run: the next group runs on it, the dead thread replaced');
  const [legacy, fresh, c1legacy, c1new] = results;
  assert.ok(legacy !== undefined && fresh !== undefined && c1legacy !== undefined && c1new !== undefined);
  // The killed connection's group: both mode sets failed with the cause.
  for (const c of [legacy, fresh]) {
    assert.is(c.status, 'failed');
    assert.is(c.failures.length, 1, JSON.stringify(c.failures));
    assert.match(c.failures[0]!, /^round 2: connection [01]: worker exited with code/);
    // The round that completed before the kill is kept; the one it broke measured nothing.
    assert.equal(
      c.rounds.map((r) => [r.round, r.failures]),
      [[1, []]],
      `${c.cell.id}: round 1 kept`,
    );
    assert.ok(c.operations > 0, 'its operations are kept');
    assert.is(c.rounds[0]!.state_hash, null, 'no state hash for a failed group');
  }

  // The next group ran on its own pool and is fine.
  for (const c of [c1legacy, c1new]) {
    assert.is(c.status, 'ok', JSON.stringify(c.failures));
    assert.ok(c.operations > 0);
    assert.ok((windowsAfterKill.get(c.cell.id) ?? 0) > 0, `${c.cell.id} streamed windows`);
    assert.not.ok(c.cell.deterministic, 'a duration-bound cell is not deterministic');
  }

  // The run folder, as the CLI writes it.
  const endMs = Date.now();
  const run = runRecordOf({
    run_id: 'failure-test',
    started,
    ended: new Date(endMs),
    results,
    config: { seed: 3, rounds: 2, mode_sets: ['legacy', 'new'], workloads: [{ name: 'kill-me', file, fixture_sha256: null }], window_ms: 100 },
  });
  writeRun(runDir, run, results, startMs, endMs);
  for (const r of results) r.aggregate.destroy();

  const written = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunRecord;
  assert.equal(written.totals, { cells: 4, failed: 2, with_gaps: 0, correctness_failures: 0, fallbacks: 0 });
  assert.equal(
    written.cells.map((c) => [c.concurrency, c.mode_set, c.status, c.usable_for_gate]),
    [
      [2, 'legacy', 'failed', false],
      [2, 'new', 'failed', false],
      [1, 'legacy', 'ok', true],
      [1, 'new', 'ok', true],
    ],
  );
  assert.match(written.cells[0]!.failures[0]!, /connection [01]: worker exited/);
  for (const c of written.cells) assert.ok(existsSync(join(runDir, c.histograms_file)), c.histograms_file);
  assert.not.ok(existsSync(join(runDir, 'work')), 'work folder removed');
  const txt = readFileSync(join(runDir, 'summary.txt'), 'utf8');
  assert.match(txt, /kill-me\.memory\.c2\.legacy\s+failed.*FAILED/);
  assert.match(txt, /failure: round 2: connection [01]: worker exited/);
});

/** Exit 2 through the real command line (main maps a UsageError to EXIT_USAGE). */
const BAD_CLI: { args: string[]; stderr: RegExp }[] = [
  { args: ['run', '--modes', 'M6=bogus'], stderr: /--modes: unknown control mode "bogus" for M6/ },
  { args: ['run', '--backend', 'disk'], stderr: /--backend 'disk' is not one of memory, file/ },
  { args: ['run', '--workload', 'nope'], stderr: /nope: invalid workload spec[\s\S]*not a canonical workload \(checkpoint-churn, .*mixed-read-write/ },
  { args: ['run', '--concurrency', '0'], stderr: /--concurrency must be an integer >= 1, got '0'/ },
  { args: ['run', '--inject', 'M6.torn_read=0.1'], stderr: /--inject M6\.torn_read=0\.1: faults\.M6\.torn_read/ },
];

test('a worker killed inside engine locks stalls nothing: the survivors are stopped at once', async () => {
  const workload: WorkloadInput = {
    name: 'kill-in-lock',
    description: 'closed-loop exclusive writers: a kill almost surely lands inside the writer lock',
    serves: { classes: ['M6'], verification: ['harness failure test'] },
    backends: ['memory'],
    concurrency: [2],
    engine: { pageSize: 4096, pageCount: 128, fsync: 'normal', versionsPerPage: 8 },
    fixture: { rows: 64 },
    mix: { write: 1 },
    keys: { distribution: 'uniform' },
    transaction: { statements: 8, max_retries: 1000 },
    run: { duration_ms: 1500 },
  };
  const file = join(tmp, 'kill-in-lock.json');
  writeFileSync(file, JSON.stringify(workload));
  const groups = planMatrix({ workloads: [loadSpecFile(file)], modeSets: parseModeSets('legacy') });
  const pools: Piscina[] = [];
  let killed = false;
  const t0 = Date.now();
  const results = await runMatrix({
    groups,
    rounds: 1,
    seed: 5,
    faults: {},
    schedule: 'interleaved',
    runDir: join(tmp, 'run-lock'),
    sliceMs: 100,
    onPool: (pool) => pools.push(pool),
    onWindow: () => {
      if (killed) return;
      killed = true;
      void pools[0]?.threads[0]?.terminate();
    },
  });
  const elapsed = Date.now() - t0;
  const [cell] = results;
  assert.ok(killed && cell !== undefined);
  assert.is(cell.status, 'failed');
  assert.ok(
    cell.failures.some((f) => /worker exited/.test(f)),
    JSON.stringify(cell.failures),
  );
  // Not a timing assertion on the engine: the guard is the slice deadline (two minutes).
  assert.ok(elapsed < 60_000, `the group ended (${elapsed} ms) well before its deadline`);
  for (const r of results) r.aggregate.destroy();
});

test('bad command lines exit 2 naming the problem and write nothing; run --help exits 0', async () => {
  const out = join(tmp, 'bad-out');
  const results = await Promise.all([...BAD_CLI.map((b) => cli([...b.args, '--out', out, '-q'])), cli(['run', '--help'])]);
  BAD_CLI.forEach((b, i) => {
    const r = results[i]!;
    assert.is(r.code, 2, `${b.args.join(' ')}: exit code (stderr: ${r.stderr})`);
    assert.match(r.stderr, b.stderr, `${b.args.join(' ')}`);
    assert.is(r.stdout, '', `${b.args.join(' ')}: nothing on stdout`);
  });
  assert.not.ok(existsSync(out), 'no run folder for bad input');
  const help = results[BAD_CLI.length]!;
  assert.is(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: shadowbench run \[options\]/);
  assert.match(help.stdout, /Exit status: 0 all cells ran, 1 a cell failed, 2 bad input/);
});

/** More bad input, in process: the verb throws the UsageError that main turns into exit 2. */
const BAD_ARGS: { args: string[]; message: RegExp }[] = [
  { args: ['--modes', 'M4=snapshot'], message: /--modes: M4 has no control modes \(only M1, M6, M11\)/ },
  { args: ['--modes', 'legacy,legacy'], message: /--modes: legacy is given twice/ },
  { args: ['--rounds', 'two'], message: /--rounds must be an integer >= 1, got 'two'/ },
  { args: ['--seed=-1'], message: /--seed must be an integer >= 0, got '-1'/ },
  { args: ['--duration', '0'], message: /--duration must be a positive number of ms/ },
  { args: ['--schedule', 'concurrent'], message: /^shadowbench run: .*--schedule.*see 'shadowbench run --help'/ },
  { args: ['--inject', 'M6.delay_ns'], message: /expected CLASS\.FAULT=VALUE/ },
  { args: ['--bogus-flag'], message: /^shadowbench run: .*--bogus-flag.*see 'shadowbench run --help'/ },
];

test('more bad run arguments are UsageErrors naming the problem', async () => {
  assert.is(EXIT_USAGE, 2);
  await assertRunRefuses(
    BAD_ARGS.map((b) => [b.args, b.message] as const),
    join(tmp, 'bad-args-out'),
  );
  assert.not.ok(existsSync(join(tmp, 'bad-args-out')));
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
