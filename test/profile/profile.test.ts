// `shadowbench profile` end to end with real clinic (flame and doctor) on a
// short operation-bound cell (memory, c2: two piscina worker threads), and
// the pieces that make it work headless: refusing more than one cell before
// anything runs, joining trace-event files, redirecting other threads' samplers.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Transform } from 'node:stream';
import { runCli as cli, type CliResult } from '../support/cli.ts';
import { tinySpec } from '../support/tiny-spec.ts';
import type { RunRecord } from '../../harness/results/record.ts';
import { joinTraceFiles, TraceJoinError, traceFiles } from '../../harness/profile/trace-join.ts';
import { OTHER_THREADS_DIR, PROFILED_ENV, redirectThreadSamplers, sendThreadLogsAside } from '../../harness/profile/other-threads.mjs';

interface ProfileJson {
  tool: string;
  cell: string;
  run_dir: string;
  report: string | null;
  report_bytes: number | null;
  data_dir: string | null;
  collect: { exit_code: number | null; ms: number };
  visualize: { exit_code: number | null; ms: number } | null;
  trace_files_joined: number;
  run_exit_code: number | null;
  exit_code: number;
  problems: string[];
}

const tmp = mkdtempSync(join(tmpdir(), 'sb-profile-'));
const specFile = join(tmp, 'tiny-profile.json');
const workload = tinySpec('tiny-profile', { run: { operations: 400 }, warmup: { operations: 40 } });
writeFileSync(specFile, JSON.stringify(workload, null, 2));

const CELL = ['--workload', specFile, '--modes', 'legacy', '--rounds', '1', '--out', tmp];

function parse(r: CliResult): ProfileJson {
  assert.is(r.code, 0, `exit code 0 expected; stderr:\n${r.stderr}\nstdout:\n${r.stdout}`);
  return JSON.parse(r.stdout) as ProfileJson;
}

/** What a successful profile leaves: the report in <run-dir>/profile, a finished run, no scratch files. */
function checkLayout(j: ProfileJson, tool: string): void {
  assert.is(j.tool, tool);
  assert.is(j.cell, 'reference.tiny-profile.memory.c2.legacy');
  assert.equal(j.problems, []);
  assert.is(j.run_exit_code, 0);
  assert.ok(j.report !== null && j.data_dir !== null);
  assert.is(dirname(j.report), join(j.run_dir, 'profile'));
  assert.ok(basename(j.report).endsWith(`.clinic-${tool}.html`), j.report);
  assert.is(statSync(j.report).size, j.report_bytes);
  // clinic's reports bundle their viewer: anything under 100 kB is not one.
  assert.ok(j.report_bytes! > 100_000, `report is ${j.report_bytes} bytes`);
  const html = readFileSync(j.report, 'utf8');
  assert.ok(/^<!DOCTYPE html>/i.test(html.trimStart()), html.slice(0, 80));
  const run = JSON.parse(readFileSync(join(j.run_dir, 'run.json'), 'utf8')) as RunRecord;
  assert.equal(
    run.cells.map((c) => c.id),
    [j.cell],
  );
  assert.is(run.run_id, basename(j.run_dir));
  const left = readdirSync(join(j.run_dir, 'profile')).filter((f) => /^(isolate-|node_trace\.)/.test(f) || f === OTHER_THREADS_DIR);
  assert.equal(left, [], 'scratch files left in the profile folder');
}

test('profile refuses a selection of more than one cell, naming the flags to add, before running anything', async () => {
  const before = readdirSync(tmp).length;
  const r = await cli(['profile', '--tool', 'flame', '--', '--workload', 'mixed-read-write', '--out', tmp]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /select \d+ cells; profile runs exactly one/);
  for (const flag of ['--backend', '--concurrency', '--modes']) assert.ok(r.stderr.includes(flag), `${flag} not named:\n${r.stderr}`);
  assert.not.ok(/--workload NAME/.test(r.stderr), 'the workload was already one');
  assert.match(r.stderr, /e\.g\. shadowbench profile --tool flame -- .*--backend=\w+ --concurrency=\d+ --modes=legacy/);
  assert.is(readdirSync(tmp).length, before, 'a run folder was created');
});

test('profile: bad tool, --json after --, run flags before -- are bad input (exit 2, cause named)', async () => {
  const tool = await cli(['profile', '--tool', 'heap', '--', ...CELL]);
  assert.is(tool.code, 2);
  assert.match(tool.stderr, /--tool must be one of doctor, flame, bubbleprof, got 'heap'/);
  const json = await cli(['profile', '--', ...CELL, '--json']);
  assert.is(json.code, 2);
  assert.match(json.stderr, /--json is profile's own option: put it before '--'/);
  const order = await cli(['profile', '--tool', 'flame', '--workload', specFile]);
  assert.is(order.code, 2);
  assert.match(order.stderr, /--workload is a run argument: put run arguments after '--'/);
  const help = await cli(['profile', '--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /Worker threads:/);
});

test("profile --tool flame: report in the run folder; the samples are the main thread's only", async () => {
  const started = Date.now();
  const j = parse(await cli(['profile', '--tool', 'flame', '--json', '-q', '--', ...CELL]));
  console.log(`    flame profile of a c2 cell: ${((Date.now() - started) / 1000).toFixed(1)} s, report ${(j.report_bytes! / 1e6).toFixed(1)} MB`);
  checkLayout(j, 'flame');
  assert.is(j.collect.exit_code, 0);
  assert.is(j.visualize, null, 'flame builds its report in the collect command');
  // The documented finding: V8 logs each thread separately and clinic keeps
  // one, the main thread's. Frames of the CLI (main thread) are there; frames
  // of the pool worker, which drives every connection, are not.
  const samples = readFileSync(join(j.data_dir!, `${basename(j.data_dir!)}-samples`), 'utf8');
  assert.ok(samples.includes('harness/cli/main.ts'), 'no main-thread frames in the flame samples');
  assert.not.ok(samples.includes('harness/pool/worker.ts'), 'worker-thread frames in the flame samples');
});

interface Sample {
  timestamp: number;
}

function decodeProcessStat(file: string): Promise<Sample[]> {
  // clinic doctor's own decoder (JavaScript, no types): a Transform from bytes to samples.
  const Decoder = createRequire(import.meta.url)('@clinic/doctor/format/process-stat-decoder.js') as new () => Transform;
  return new Promise((resolve, reject) => {
    const out: Sample[] = [];
    createReadStream(file)
      .pipe(new Decoder())
      .on('data', (s: Sample) => out.push(s))
      .on('end', () => resolve(out))
      .on('error', reject);
  });
}

test("profile --tool doctor: report in the run folder; the main thread's samples are not overwritten by other threads", async () => {
  const started = Date.now();
  const j = parse(await cli(['profile', '--tool', 'doctor', '--json', '-q', '--', ...CELL]));
  console.log(`    doctor profile of a c2 cell: ${((Date.now() - started) / 1000).toFixed(1)} s, report ${(j.report_bytes! / 1e6).toFixed(1)} MB`);
  checkLayout(j, 'doctor');
  assert.is(j.collect.exit_code, 0);
  assert.is(j.visualize?.exit_code, 0);
  const samples = await decodeProcessStat(join(j.data_dir!, `${basename(j.data_dir!)}-processstat`));
  assert.ok(samples.length > 10, `${samples.length} samples`);
  // One sampler writes one increasing series; threads writing into the same file interleave series.
  const backwards = samples.filter((s, i) => i > 0 && s.timestamp < samples[i - 1]!.timestamp).length;
  assert.is(backwards, 0, `${backwards} of ${samples.length} samples go back in time`);
});

test('trace-event files are spliced into one, in file order, and removed', () => {
  const dir = mkdtempSync(join(tmp, 'trace-'));
  const ev = (n: number): string => `{"pid":1,"tid":1,"ts":${n},"ph":"b","name":"E${n}"}`;
  writeFileSync(join(dir, 'node_trace.10.log'), `{"traceEvents":[${ev(3)}]}\n`);
  writeFileSync(join(dir, 'node_trace.2.log'), `{"traceEvents":[${ev(1)},${ev(2)}]}`);
  writeFileSync(join(dir, 'node_trace.3.log'), `{"traceEvents":[]}`);
  writeFileSync(join(dir, 'other.log'), 'x');
  const files = traceFiles(dir);
  assert.equal(
    files.map((f) => basename(f)),
    ['node_trace.2.log', 'node_trace.3.log', 'node_trace.10.log'],
  );
  const out = join(dir, 'joined');
  joinTraceFiles(files, out);
  const joined = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: { ts: number }[] };
  assert.equal(
    joined.traceEvents.map((e) => e.ts),
    [1, 2, 3],
  );
  assert.equal(traceFiles(dir), []);
  assert.ok(existsSync(join(dir, 'other.log')));

  writeFileSync(join(dir, 'node_trace.1.log'), `{"traceEvents":[${ev(1)},`);
  assert.throws(
    () => joinTraceFiles(traceFiles(dir), out),
    (err: unknown) => err instanceof TraceJoinError && /not a complete trace-event file/.test(err.message),
  );
});

test("other threads' clinic samplers are redirected only when clinic injects them", () => {
  const plain: NodeJS.ProcessEnv = { NODE_PATH: '/x/lib', NODE_CLINIC_DOCTOR_DATA_PATH: '/d' };
  redirectThreadSamplers(plain);
  assert.is(plain['NODE_CLINIC_DOCTOR_DATA_PATH'], '/d');
  const doctor: NodeJS.ProcessEnv = { NODE_PATH: '/n/node_modules/@clinic/doctor/injects:/x', NODE_CLINIC_DOCTOR_DATA_PATH: '/d/' };
  redirectThreadSamplers(doctor);
  assert.is(doctor['NODE_CLINIC_DOCTOR_DATA_PATH'], `/d/${OTHER_THREADS_DIR}`);
  const bubble: NodeJS.ProcessEnv = { NODE_PATH: '/n/node_modules/@clinic/bubbleprof/injects' };
  redirectThreadSamplers(bubble);
  assert.is(bubble['NODE_CLINIC_BUBBLEPROF_DATA_PATH'], `./${OTHER_THREADS_DIR}`);
  assert.is(bubble['NODE_CLINIC_DOCTOR_DATA_PATH'], undefined);
});

test('V8 logs of other threads are sent aside only under profile, --prof and a relative --logfile', () => {
  const cwd = process.cwd();
  assert.is(sendThreadLogsAside(['--prof', '--logfile=./%p-v8.log'], {}), false);
  assert.is(sendThreadLogsAside(['--logfile=./%p-v8.log'], { [PROFILED_ENV]: '1' }), false);
  assert.is(sendThreadLogsAside(['--prof', '--logfile=/abs/%p-v8.log'], { [PROFILED_ENV]: '1' }), false);
  assert.is(process.cwd(), cwd);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
