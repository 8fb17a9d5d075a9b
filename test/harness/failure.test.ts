// Failures: a worker thread killed mid-round fails its cell with a message
// naming the connection, the other mode set's cell still runs, and the run
// folder is written intact. Bad command lines exit 2 naming the problem.

import { test } from 'uvu';
import { runCli as cli } from '../support/cli.ts';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import { runEnvironment } from '../../harness/output/environment.ts';
import { runRecordOf, writeRun, type RunRecord } from '../../harness/output/write.ts';
import { planMatrix } from '../../harness/plan/matrix.ts';
import { parseModeSets } from '../../harness/plan/modes.ts';
import { runMatrix, type CellResult } from '../../harness/run/runner.ts';
import { runVerb } from '../../harness/cli/run.ts';
import { EXIT_USAGE, UsageError } from '../../harness/cli/verb.ts';
import { loadSpecFile } from '../../harness/spec/load.ts';
import type { WorkloadInput } from '../../harness/spec/schema.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin/shadowbench.js');
const tmp = mkdtempSync(join(tmpdir(), 'sb-fail-'));


test('a killed worker yields a failed cell naming the connection, and an intact run folder', async () => {
  const workload: WorkloadInput = {
    name: 'kill-me',
    description: 'duration-bound open-loop workload for the worker-death test',
    serves: { classes: ['M6'], verification: ['harness failure test'] },
    backends: ['memory'],
    concurrency: [2],
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
  assert.equal(groups.flatMap((g) => g.cells.map((c) => c.modeSet.label)), ['legacy', 'new']);

  const pools: Piscina[] = [];
  let killed: { cell: string; threadId: number } | null = null;
  const windowsAfterKill = new Map<string, number>();
  const runDir = join(tmp, 'run');
  const startMs = Date.now();
  const started = new Date(startMs);
  const matrix = runMatrix({
    groups, rounds: 1, seed: 3, faults: {}, schedule: 'interleaved', runDir, window_ms: 100,
    onPool: (pool) => pools.push(pool),
    onWindow: (cell) => {
      if (killed === null && cell.modeSet.label === 'legacy') {
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
  const hung = new Promise<'hung'>((resolve) => { timer = setTimeout(() => resolve('hung'), 60_000); });
  const outcome = await Promise.race([matrix, hung]);
  clearTimeout(timer);
  if (outcome === 'hung') {
    await Promise.all(pools.map((p) => p.destroy()));
    assert.unreachable('runMatrix did not finish within 60 s after a worker was killed');
  }
  const results = outcome as CellResult[];

  assert.ok(killed !== null, 'a worker was killed');
  assert.is(pools.length, 1, 'one pool for the concurrency level');
  const [legacy, fresh] = results;
  assert.ok(legacy !== undefined && fresh !== undefined);
  assert.is(legacy.cell.id, 'reference.kill-me.memory.c2.legacy');
  assert.is(legacy.status, 'failed');
  assert.is(legacy.failures.length, 1, JSON.stringify(legacy.failures));
  assert.match(legacy.failures[0]!, /^round 1: connection [01]: worker exited with code/);
  assert.is(legacy.rounds.length, 1, 'the failed round is still summarized');
  assert.is(legacy.rounds[0]!.state_hash, null, 'no state hash for a failed round');
  assert.ok(legacy.rounds[0]!.failures.length === 1);
  // What the surviving connection recorded is kept.
  assert.ok(legacy.operations > 0, 'the surviving connection\'s operations are kept');

  // The other mode set ran on a replacement thread and is fine.
  assert.is(fresh.cell.id, 'reference.kill-me.memory.c2.new');
  assert.is(fresh.status, 'ok', JSON.stringify(fresh.failures));
  assert.equal(fresh.failures, []);
  assert.ok(fresh.operations > 0);
  assert.ok((windowsAfterKill.get(fresh.cell.id) ?? 0) > 0, 'the second cell streamed windows');
  assert.is(fresh.rounds[0]!.state_hash, null, 'a duration-bound cell is not deterministic');
  assert.not.ok(fresh.cell.deterministic);

  // The run folder, as the CLI writes it.
  const endMs = Date.now();
  const run = runRecordOf({
    run_id: 'failure-test', started, ended: new Date(endMs), results,
    config: { seed: 3, rounds: 1, mode_sets: ['legacy', 'new'], workloads: [{ name: 'kill-me', file, fixture_sha256: null }], window_ms: 100 },
  });
  writeRun(runDir, run, results, startMs, endMs);
  for (const r of results) r.aggregate.destroy();

  const written = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunRecord;
  assert.equal(written.totals, { cells: 2, failed: 1, with_gaps: 0, correctness_failures: 0, fallbacks: 0 });
  assert.equal(written.cells.map((c) => [c.mode_set, c.status, c.usable_for_gate]), [['legacy', 'failed', false], ['new', 'ok', true]]);
  assert.match(written.cells[0]!.failures[0]!, /connection [01]: worker exited/);
  for (const c of written.cells) assert.ok(existsSync(join(runDir, c.histograms_file)), c.histograms_file);
  assert.not.ok(existsSync(join(runDir, 'work')), 'work folder removed');
  const txt = readFileSync(join(runDir, 'summary.txt'), 'utf8');
  assert.match(txt, /kill-me\.memory\.c2\.legacy\s+failed.*FAILED/);
  assert.match(txt, /failure: round 1: connection [01]: worker exited/);
});

/** Exit 2 through the real command line (main maps a UsageError to EXIT_USAGE). */
const BAD_CLI: { args: string[]; stderr: RegExp }[] = [
  { args: ['run', '--modes', 'M6=bogus'], stderr: /--modes: unknown control mode "bogus" for M6/ },
  { args: ['run', '--backend', 'disk'], stderr: /--backend 'disk' is not one of memory, file/ },
  { args: ['run', '--workload', 'nope'], stderr: /nope: invalid workload spec[\s\S]*not a canonical workload \(checkpoint-churn, .*mixed-read-write/ },
  { args: ['run', '--concurrency', '0'], stderr: /--concurrency must be an integer >= 1, got '0'/ },
  { args: ['run', '--inject', 'M6.torn_read=0.1'], stderr: /--inject M6\.torn_read=0\.1: faults\.M6\.torn_read/ },
];


test('a worker killed inside engine locks stalls nothing: the survivors are stopped after a grace period', async () => {
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
    groups, rounds: 1, seed: 5, faults: {}, schedule: 'interleaved', runDir: join(tmp, 'run-lock'), window_ms: 100,
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
  assert.ok(cell.failures.some((f) => /worker exited/.test(f)), JSON.stringify(cell.failures));
  // Not a timing assertion on the engine: the guard is the 30 s round deadline plus the 5 s grace.
  assert.ok(elapsed < 30_000, `the round ended (${elapsed} ms) well before its deadline`);
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
  { args: ['--schedule', 'parallel'], message: /--schedule must be interleaved or concurrent, got 'parallel'/ },
  { args: ['--inject', 'M6.delay_ns'], message: /expected CLASS\.FAULT=VALUE/ },
  { args: ['--bogus-flag'], message: /^shadowbench run: .*--bogus-flag.*see 'shadowbench run --help'/ },
];

test('more bad run arguments are UsageErrors naming the problem', async () => {
  assert.is(EXIT_USAGE, 2);
  const io = { out: (t: string) => assert.unreachable(`stdout: ${t}`), err: (t: string) => assert.unreachable(`stderr: ${t}`) };
  for (const b of BAD_ARGS) {
    try {
      await runVerb.run([...b.args, '--out', join(tmp, 'bad-args-out'), '-q'], io);
      assert.unreachable(`${b.args.join(' ')}: accepted`);
    } catch (err) {
      assert.instance(err, UsageError, `${b.args.join(' ')}: ${String(err)}`);
      assert.match((err as Error).message, b.message);
    }
  }
  assert.not.ok(existsSync(join(tmp, 'bad-args-out')));
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
