// `npm run bench:harness [-- --json]`: the harness's own ceiling and cost.
// Operations per second one worker drives against a no-op engine with
// recording on versus a bare loop, ns per recorded operation and per field
// record, what a window flush costs the worker and a window merge costs the
// main thread, and the real engine (memory, c1) with and without recording
// for context. Each scenario runs in a real worker thread, rounds
// interleaved, median of N runs. A benchmark, not a test: it reports
// figures and never asserts on them.

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stableJson } from '../../shared/json.ts';
import { formatTable } from '../../shared/table.ts';
import { parseModeSets } from '../../plan/modes.ts';
import { planMatrix } from '../../plan/matrix.ts';
import { initHistograms, RoundAggregate } from '../../record/aggregate.ts';
import { DEFAULT_SAMPLE_RATIO, type WindowDelta } from '../../record/recorder.ts';
import { loadSpecFile, resolveWorkloads, WORKLOADS_DIR } from '../../spec/load.ts';
import type { WorkloadSpec } from '../../spec/schema.ts';
import { SpanSink } from '../../telemetry/spans.ts';
import type { BenchResult, BenchTask, BenchWindow, Scenario } from './recording.worker.ts';

const BOOTSTRAP = new URL('../../runtime/ts-worker.mjs', import.meta.url);
const SCRIPT = new URL('./recording.worker.ts', import.meta.url);

const USAGE = `Usage: npm run bench:harness -- [options]

Measures the harness's own ceiling and cost in one worker thread: ops/s of a
bare loop (op stream + no-op driver) versus the same loop with recording on
(per-op timing, histograms, counters, 8 field rows per op, windows flushed
every 250 ms), ns per recorded op and field record, flush and merge cost per
window, and the real engine (memory backend, c1) with no recording, with
recording, and with recording plus the default span sampling (windows
posted to the main thread, which makes the spans).

Options:
  --runs N         runs per scenario, median reported (default 5)
  --ms N           measured time per run in ms (default 700)
  --records N      synthetic field records per op (default 8)
  --json           print the report as one JSON object on stdout
  -h, --help       show this help
Progress goes to stderr.
`;

interface ScenarioInfo {
  scenario: Scenario;
  label: string;
}

const SCENARIOS: readonly ScenarioInfo[] = [
  { scenario: 'bare', label: 'a  bare loop: opStream + no-op driver' },
  { scenario: 'record-op', label: 'b1 + per-op timing and recorder.op, windows' },
  { scenario: 'record-full', label: 'b2 + N field rows/op' },
  { scenario: 'engine-bare', label: 'd1 engine memory c1, no sink' },
  { scenario: 'engine-rows', label: 'd2 engine memory c1, rows written, dropped' },
  { scenario: 'engine-recorded', label: 'd3 engine memory c1, recorded' },
  { scenario: 'engine-spans', label: 'd4 d3 + default span sampling, spans made' },
];

export interface ScenarioRow {
  scenario: Scenario;
  label: string;
  ops_per_s: number;
  ns_per_op: number;
  runs_ops_per_s: number[];
  field_records_per_op: number;
  /** Per measured window: flush time (ms) and histograms carried; share of the worker's time spent flushing. */
  flush_ms_per_window: number | null;
  histograms_per_window: number | null;
  flush_share: number | null;
  /** Full records (span samples) per measured window. */
  samples_per_window: number | null;
  errors: string[];
}

export interface HarnessReport {
  schema: 'shadowbench.bench.harness/2';
  settings: { runs: number; ms: number; warmup_ms: number; window_ms: number; records_per_op: number; sample_ratio: number; workload: string };
  machine: { cpus: number; node: string; platform: string };
  rows: ScenarioRow[];
  derived: {
    /** Recording cost per op (b1 - a), ns. */
    recording_ns_per_op: number;
    /** Per field record ((b2 - b1) / N), ns; named for the table it is compared with (recording no longer calls WebAssembly). */
    ns_per_field_record_wasm: number;
    /** ops/s ratios of the engine: recorded (d3/d1), recorded with span sampling and spans made (d4/d1), rows only (d2/d1). */
    engine_recorded_over_no_hook: number;
    engine_sampled_spans_over_no_hook: number;
    engine_rows_over_no_hook: number;
    /** Engine field records per op, and the recorder's cost per engine record ((d3 - d2) / records per op), ns. */
    engine_records_per_op: number;
    ns_per_engine_record: number;
    /** Main thread: merge of one window delta (RoundAggregate.add), ms, and how many it absorbs per second. */
    merge_ms_per_window: number | null;
    merge_windows_per_s: number | null;
    merge_histograms_per_window: number | null;
  };
  notes: string[];
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The span sink of engine-spans runs, on this (the main) thread, as a run's would be. */
function spanSinkOf(dir: string): { sink: SpanSink; onWindow: (d: WindowDelta) => void } {
  const spec = `${WORKLOADS_DIR}mixed-read-write.json`;
  const cell = planMatrix({ workloads: resolveWorkloads([spec]), modeSets: parseModeSets('legacy'), concurrency: [1] }).flatMap((g) => g.cells)[0]!;
  const sink = new SpanSink({ run: 'bench-harness', otlp: null, file: join(dir, 'spans.jsonl') });
  return { sink, onWindow: (d) => sink.onWindow(cell, d) };
}

class BenchWorker {
  private readonly worker: Worker;
  private pending: { resolve: (r: BenchResult) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(onWindow: (d: WindowDelta) => void) {
    this.worker = new Worker(BOOTSTRAP, { workerData: { __script: SCRIPT.href } });
    this.worker.on('message', (m: BenchResult | BenchWindow) => {
      if (m.type === 'window') {
        onWindow(m.delta);
        return;
      }
      const p = this.pending;
      this.pending = null;
      p?.resolve(m);
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`bench worker exited with code ${code}`));
    });
  }

  run(task: BenchTask): Promise<BenchResult> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(task);
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.pending?.reject(e);
    this.pending = null;
  }
}

/** The bench's workload: the canonical mixed read/write (at c1 its stream has no waits: mixAt). */
const benchSpec = (): WorkloadSpec => loadSpecFile(`${WORKLOADS_DIR}mixed-read-write.json`).spec;

/** Main-thread cost of merging window deltas, as runRound does for every window. */
function measureMerge(deltas: readonly WindowDelta[]): { ms: number; histograms: number } | null {
  if (deltas.length === 0) return null;
  const times: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    const agg = new RoundAggregate();
    const t0 = performance.now();
    for (const d of deltas) agg.add(d);
    times.push((performance.now() - t0) / deltas.length);
    agg.destroy();
  }
  const histograms = deltas.reduce((n, d) => n + Object.keys(d.histograms).length, 0) / deltas.length;
  return { ms: median(times), histograms };
}

const round = (x: number, digits = 0): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

function fmtInt(x: number | null): string {
  return x === null || !Number.isFinite(x) ? '-' : Math.round(x).toLocaleString('en-US');
}

function renderText(r: HarnessReport): string {
  const bare = r.rows.find((x) => x.scenario === 'bare')!;
  const engineBare = r.rows.find((x) => x.scenario === 'engine-bare')!;
  const rows: string[][] = [
    ['scenario', 'ops/s', 'ns/op', 'min..max ops/s', 'vs bare', 'records/op', 'flush ms/window', 'hists/window', 'flush share', 'samples/window'],
  ];
  for (const x of r.rows) {
    const ref = x.scenario.startsWith('engine') ? engineBare : bare;
    rows.push([
      x.label.replace('N field', `${r.settings.records_per_op} field`),
      fmtInt(x.ops_per_s),
      fmtInt(x.ns_per_op),
      `${fmtInt(Math.min(...x.runs_ops_per_s))}..${fmtInt(Math.max(...x.runs_ops_per_s))}`,
      x === ref ? '1.00' : (x.ops_per_s / ref.ops_per_s).toFixed(3),
      x.field_records_per_op === 0 ? '-' : x.field_records_per_op.toFixed(1),
      x.flush_ms_per_window === null ? '-' : x.flush_ms_per_window.toFixed(2),
      x.histograms_per_window === null ? '-' : x.histograms_per_window.toFixed(0),
      x.flush_share === null ? '-' : `${(x.flush_share * 100).toFixed(1)}%`,
      x.samples_per_window === null ? '-' : x.samples_per_window.toFixed(0),
    ]);
  }
  const d = r.derived;
  const out = [
    `bench:harness  workload ${r.settings.workload}  ${r.settings.runs} runs x ${r.settings.ms} ms per scenario (median)  window ${r.settings.window_ms} ms`,
    `machine: ${r.machine.cpus} cpus, node ${r.machine.node}, ${r.machine.platform}`,
    '',
    formatTable(rows, { rightFrom: 1 }),
    '',
    'Derived',
    formatTable(
      [
        ['  recording cost per op (b1 - a)', `${fmtInt(d.recording_ns_per_op)} ns`],
        ['  per field record ((b2 - b1) / N)', `${d.ns_per_field_record_wasm.toFixed(1)} ns`],
        ['  engine recorded / no sink (d3/d1)', d.engine_recorded_over_no_hook.toFixed(3)],
        ['  engine recorded, default span sampling / no sink (d4/d1)', d.engine_sampled_spans_over_no_hook.toFixed(3)],
        ['  engine writing rows only / no sink (d2/d1)', d.engine_rows_over_no_hook.toFixed(3)],
        [
          '  recorder cost per engine field record ((d3 - d2) / records per op)',
          `${d.ns_per_engine_record.toFixed(1)} ns (${d.engine_records_per_op.toFixed(1)} records/op)`,
        ],
        [
          '  main thread: merge of one window delta',
          d.merge_ms_per_window === null ? '-' : `${d.merge_ms_per_window.toFixed(3)} ms (${d.merge_histograms_per_window?.toFixed(0)} histograms)`,
        ],
        ['  main thread: window deltas merged per second', fmtInt(d.merge_windows_per_s)],
      ],
      { rightFrom: 1 },
    ),
    '',
    ...r.notes.map((n) => `note: ${n}`),
    '',
  ];
  return out.join('\n');
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got '${raw}'`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  let settings: HarnessReport['settings'];
  let json: boolean;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        runs: { type: 'string' },
        ms: { type: 'string' },
        records: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      process.stdout.write(USAGE);
      return 0;
    }
    json = values.json === true;
    settings = {
      runs: positiveInt('runs', values.runs, 5),
      ms: positiveInt('ms', values.ms, 700),
      warmup_ms: 100,
      window_ms: 250,
      records_per_op: positiveInt('records', values.records, 8),
      sample_ratio: DEFAULT_SAMPLE_RATIO,
      workload: 'mixed-read-write (mix without wait)',
    };
  } catch (err) {
    process.stderr.write(`bench:harness: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }

  const spec = benchSpec();
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  log(`bench:harness: ${SCENARIOS.length} scenarios x ${settings.runs} runs x ${settings.ms} ms (+${settings.warmup_ms} ms warm-up), one worker thread`);
  await initHistograms(); // the main thread's histograms, as runMatrix sets them up
  const dir = mkdtempSync(join(tmpdir(), 'shadowbench-bench-harness-'));
  const spans = spanSinkOf(dir);
  const worker = new BenchWorker(spans.onWindow);
  const collected = new Map<Scenario, BenchResult[]>(SCENARIOS.map((s) => [s.scenario, []]));
  let deltas: WindowDelta[] = [];
  let id = 0;
  try {
    // Rounds interleaved (a b1 b2 ... a b1 b2 ...), so machine drift falls on every scenario alike.
    for (let run = 0; run < settings.runs; run++) {
      for (const s of SCENARIOS) {
        const keep = run === settings.runs - 1 && s.scenario === 'engine-recorded';
        const r = await worker.run({
          type: 'task',
          id: id++,
          scenario: s.scenario,
          spec,
          ms: settings.ms,
          warmup_ms: settings.warmup_ms,
          window_ms: settings.window_ms,
          records_per_op: settings.records_per_op,
          sample_ratio: settings.sample_ratio,
          keep_deltas: keep,
        });
        collected.get(s.scenario)!.push(r);
        if (keep) deltas = r.deltas;
      }
      log(`  run ${run + 1}/${settings.runs} done`);
    }
  } finally {
    await worker.close();
    await spans.sink.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }

  const rows: ScenarioRow[] = SCENARIOS.map(({ scenario, label }) => {
    const rs = collected.get(scenario)!;
    const ok = rs.filter((r) => r.error === null && r.ns > 0);
    const opsPerS = ok.map((r) => (r.ops / r.ns) * 1e9);
    const med = median(opsPerS);
    const flushes = ok.reduce((n, r) => n + r.flushes, 0);
    const flushNs = ok.reduce((n, r) => n + r.flush_ns, 0);
    const totalNs = ok.reduce((n, r) => n + r.ns, 0);
    return {
      scenario,
      label,
      ops_per_s: round(med),
      ns_per_op: round(1e9 / med),
      runs_ops_per_s: opsPerS.map((x) => round(x)),
      field_records_per_op: ok.length === 0 ? 0 : round(ok.reduce((n, r) => n + r.field_records, 0) / ok.reduce((n, r) => n + r.ops, 0), 2),
      flush_ms_per_window: flushes === 0 ? null : round(flushNs / flushes / 1e6, 3),
      histograms_per_window: flushes === 0 ? null : round(ok.reduce((n, r) => n + r.flushed_histograms, 0) / flushes, 1),
      flush_share: flushes === 0 ? null : round(flushNs / totalNs, 4),
      samples_per_window: flushes === 0 ? null : round(ok.reduce((n, r) => n + r.samples, 0) / flushes, 1),
      errors: rs.filter((r) => r.error !== null).map((r) => r.error!),
    };
  });
  const row = (s: Scenario): ScenarioRow => rows.find((r) => r.scenario === s)!;
  const nsOf = (s: Scenario): number => 1e9 / row(s).ops_per_s;
  const ratio = (a: Scenario, b: Scenario): number => round(row(a).ops_per_s / row(b).ops_per_s, 4);
  const merge = measureMerge(deltas);
  const engineRecords = row('engine-recorded').field_records_per_op;
  const report: HarnessReport = {
    schema: 'shadowbench.bench.harness/2',
    settings,
    machine: { cpus: availableParallelism(), node: process.versions.node, platform: `${process.platform}-${process.arch}` },
    rows,
    derived: {
      recording_ns_per_op: round(nsOf('record-op') - nsOf('bare'), 1),
      ns_per_field_record_wasm: round((nsOf('record-full') - nsOf('record-op')) / settings.records_per_op, 1),
      engine_recorded_over_no_hook: ratio('engine-recorded', 'engine-bare'),
      engine_sampled_spans_over_no_hook: ratio('engine-spans', 'engine-bare'),
      engine_rows_over_no_hook: ratio('engine-rows', 'engine-bare'),
      engine_records_per_op: engineRecords,
      ns_per_engine_record: round((nsOf('engine-recorded') - nsOf('engine-rows')) / Math.max(1, engineRecords), 1),
      merge_ms_per_window: merge === null ? null : round(merge.ms, 4),
      merge_windows_per_s: merge === null ? null : round(1000 / merge.ms),
      merge_histograms_per_window: merge === null ? null : round(merge.histograms, 1),
    },
    notes: [
      "b1 and b2 run the pool worker's loop (2 clock reads per op, recorder.op, a flush every 250 ms) around a no-op driver; b2 writes N field rows per op into the recorder's sink the way the engine writes them",
      "recording no longer calls WebAssembly: values go into plain counts arrays laid out as HdrHistogram's buckets (ns_per_field_record_wasm keeps its name for comparison with earlier reports)",
      'ns per recorded op / field record are differences of medians: small values are within noise on a busy machine',
      'the main-thread merge is RoundAggregate.add of the d3 window deltas (non-zero buckets added to HdrHistograms, as runMatrix does); a cell at cN produces N x 2 deltas per second at the default 500 ms window',
      "d1..d4 are the real Driver on a memory database at the fixture state, one connection; d2 has the engine write its rows into a sink that drops them; d3 adds the recorder and the worker loop's timing and windows, head sampling off; d4 adds the default head sampling, posts each window to the main thread and makes spans there (JSON-lines exporter), as a run does",
    ],
  };
  const errors = rows.flatMap((r) => r.errors.map((e) => `${r.scenario}: ${e}`));
  for (const e of errors) log(`bench:harness: ${e}`);
  process.stdout.write(json ? `${stableJson(report)}\n` : renderText(report));
  return errors.length > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
