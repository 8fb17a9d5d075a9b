// `shadowbench run`: plans the matrix, runs it, writes the run folder.
// Exit 0 when every cell ran, 1 when a cell failed (or reached a different
// final state than its siblings), 2 on bad input.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EngineError } from '../../engine/index.ts';
import { runEnvironment } from '../output/environment.ts';
import { cellRecord, writeRun, type RunConfig, type RunRecord } from '../output/write.ts';
import { FixtureError } from '../run/fixture.ts';
import { DEFAULT_WINDOW_MS, runMatrix } from '../run/runner.ts';
import { SpecError } from '../spec/load.ts';
import { RunMetrics } from '../telemetry/metrics.ts';
import { pushMetrics, serveMetrics, type MetricsServer, type PushResult } from '../telemetry/serve.ts';
import { SpanSink, type SpanReport } from '../telemetry/spans.ts';
import { progress } from './progress.ts';
import { RESULTS_DIR, RUN_OPTIONS, parseRunSettings, type RunValues } from './run-args.ts';
import { UsageError, parseVerbArgs, stableJson, type Io, type Verb } from './verb.ts';

export { RUN_OPTIONS } from './run-args.ts';

export const RUN_USAGE = `Usage: shadowbench run [options]

Runs workloads against the engine in every requested control mode, rounds
interleaved, and writes results/<run-id>/ (run.json, summary.json,
summary.txt, histograms/*.hlog).

Options:
  --workload NAME|FILE   a canonical workload or a spec file (repeatable; default: the quick canonical suite)
  --backend memory|file  restrict backends (repeatable or comma-separated; default: each spec's own)
  --concurrency LIST     connection counts, e.g. 1,4,8 (default: the spec's)
  --modes LIST           mode sets, comma-separated: legacy, shadow_compare, new, or CLASS=MODE joined by +
                         (e.g. M6=snapshot+M11=sharded); default: legacy,shadow_compare,new
  --rounds N             interleaved rounds per cell (default 3; 2 for the quick suite)
  --seed N               seed of the operation streams and faults (default 1)
  --duration MS          measured duration of every cell, in ms (e.g. 2000, or 2s)
  --schedule interleaved|concurrent
                         concurrent runs one pool per mode set at the same time (figures share the machine)
  --inject CLASS.FAULT=VALUE
                         fault injection, repeatable (e.g. M6.stale_publish=0.01, M6.delay_ns=2000)
  --threshold TRIGGER=VALUE
                         override a fallback trigger's threshold (e.g. M6.alloc_churn=0.1; see 'shadowbench list')
  --kill-switch TRIGGER=latch|K/N
                         fire on the first observation (latch, the default) or on K observations within N operations
  --full                 with no --workload: the full canonical suite instead of the quick one
  --record               record every operation stream into <run-dir>/trace/ for replay
  --out DIR              where run folders go (default: results/)
  --metrics-port N       serve Prometheus metrics on http://127.0.0.1:N/metrics while the run goes on (0 = off, the default)
  --push URL             push the final metrics to this Pushgateway (job shadowbench, run <run-id>) at the end;
                         an unreachable gateway is reported, not fatal
  --otlp URL             export spans of the sampled field records over OTLP/HTTP to URL (…/v1/traces);
                         default: OTEL_EXPORTER_OTLP_ENDPOINT if set, else <run-dir>/spans.jsonl
  --sample-ratio P       head-sampling ratio of field records exported as spans (default 0.01); diverged,
                         session_not_found, torn and slower-than-running-p99.9 records are always kept
  --shadow-sample P      the fraction of transactions shadow_compare compares, chosen by trace_id (default 1: all)
  --json                 print one JSON object on stdout ({ run_dir, exit_code, cells: [...] })
  -q, --quiet            no progress output
  -h, --help             show this help

Exit status: 0 all cells ran, 1 a cell failed, 2 bad input.
`;

export function runId(now: Date, seed: number): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-s${seed}-${process.pid}`;
}

export interface ParsedRun {
  values: RunValues;
}

/**
 * Set by `shadowbench profile` on the run it profiles, so it knows the run
 * folder (and can point clinic's --dest into it) before the run starts.
 */
export const RUN_ID_ENV = 'SHADOWBENCH_RUN_ID';

/** The run id from RUN_ID_ENV if set (a plain folder name, not yet a run), else a fresh one. */
function chooseRunId(outDir: string, started: Date, seed: number): string {
  const given = process.env[RUN_ID_ENV];
  if (given === undefined || given === '') return runId(started, seed);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(given)) throw new UsageError(`shadowbench run: ${RUN_ID_ENV}='${given}' is not a plain folder name (letters, digits, '.', '_', '-')`);
  if (existsSync(join(outDir, given, 'run.json'))) throw new UsageError(`shadowbench run: ${RUN_ID_ENV}=${given}: ${join(outDir, given)} already holds a run`);
  return given;
}

/** Shared by `run` and `replay`: everything but where the operations come from. */
export async function executeRun(values: ParsedRun['values'], io: Io, argv: readonly string[], replayOf: string | null): Promise<number> {
  const { faults, triggers, sampleRatio, shadowSampleRatio, backends, concurrency, schedule, seed, metricsPort, pushUrl, otlp, duration_ms, quick, rounds, modeSets, workloads, groups } = parseRunSettings(values);

  const started = new Date();
  const outDir = resolve(values.out ?? RESULTS_DIR);
  const runDir = join(outDir, chooseRunId(outDir, started, seed));
  mkdirSync(runDir, { recursive: true });
  const telemetry = metricsPort > 0 || pushUrl !== null ? new RunMetrics({ run: runDir.split('/').pop()! }) : null;
  if (telemetry !== null) for (const g of groups) for (const c of g.cells) telemetry.addCell(c);
  let server: MetricsServer | null = null;
  if (telemetry !== null && metricsPort > 0) {
    try {
      server = await serveMetrics(telemetry, metricsPort);
    } catch (err) {
      io.err(`shadowbench run: cannot serve metrics on 127.0.0.1:${metricsPort}: ${(err as Error).message}\n`);
      return 2;
    }
    if (values.quiet !== true) io.err(`metrics: ${server.url}\n`);
  }
  const spans = new SpanSink({ run: runDir.split('/').pop()!, otlp, file: join(runDir, 'spans.jsonl') });
  const bar = progress(io, values.quiet !== true);
  const startMs = Date.now();
  let results;
  try {
    results = await runMatrix({
      groups, rounds, seed, faults, schedule, runDir, triggers, sampleRatio, shadowSampleRatio,
      traceOut: values.record === true ? join(runDir, 'trace') : null,
      traceIn: replayOf === null ? null : join(replayOf, 'trace'),
      onWindow: (cell, delta) => {
        telemetry?.onWindow(cell, delta);
        spans.onWindow(cell, delta);
      },
      onRound: (cell, r, done, total) => {
        telemetry?.onRound(cell, r);
        if (r !== null) spans.onEvents(cell, r.events);
        bar.tick(done, total, cell.id);
      },
    });
  } catch (err) {
    bar.stop();
    await server?.close();
    await spans.shutdown();
    if (err instanceof FixtureError || err instanceof SpecError || err instanceof EngineError) {
      io.err(`shadowbench run: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  bar.stop();
  await server?.close();
  let pushed: PushResult | null = null;
  if (telemetry !== null && pushUrl !== null) {
    pushed = await pushMetrics(telemetry, pushUrl);
    io.err(`shadowbench run: ${pushed.ok ? '' : 'warning: '}${pushed.message}\n`);
  }
  const spanReport: SpanReport = await spans.shutdown();
  if (spanReport.dropped > 0 || spanReport.failed > 0) {
    io.err(`shadowbench run: warning: spans: ${spanReport.exported} of ${spanReport.ended} exported to ${spanReport.destination}, ${spanReport.failed} failed, ${spanReport.dropped} dropped${spanReport.errors.length > 0 ? ` (${spanReport.errors[0]})` : ''}\n`);
  } else if (values.quiet !== true) {
    io.err(`spans: ${spanReport.exported} exported to ${spanReport.destination}\n`);
  }
  const endMs = Date.now();
  const config: RunConfig = {
    seed, rounds, schedule, quick, duration_ms: duration_ms ?? null, mode_sets: modeSets.map((m) => m.label),
    workloads: workloads.map((w) => ({ name: w.spec.name, file: w.file, fixture_sha256: w.spec.fixture.sha256 ?? null })),
    backends: backends ?? null, concurrency: concurrency ?? null, faults, window_ms: DEFAULT_WINDOW_MS,
    trace_recorded: values.record === true, replay_of: replayOf,
  };
  const cells = results.map(cellRecord);
  const run: RunRecord = {
    format: 'shadowbench-run', version: 1, run_id: runDir.split('/').pop()!, started_at: started.toISOString(),
    ended_at: new Date(endMs).toISOString(), argv: [...argv], config,
    engine: results.find((r) => r.engine !== null)?.engine ?? null, environment: runEnvironment(),
    schedule_note: schedule === 'concurrent' ? 'schedule concurrent: mode sets ran at the same time and shared the machine; their figures are not independent' : null,
    cells,
    totals: {
      cells: cells.length, failed: cells.filter((c) => c.status === 'failed').length,
      with_gaps: cells.filter((c) => c.gaps.length > 0).length, correctness_failures: cells.filter((c) => c.correctness.length > 0).length,
      fallbacks: cells.reduce((n, c) => n + c.fallback_events.filter((e) => e.action === 'force_legacy').length, 0),
    },
  };
  writeRun(runDir, run, results, startMs, endMs);
  for (const r of results) r.aggregate.destroy();
  const exitCode = run.totals.failed > 0 || run.totals.correctness_failures > 0 ? 1 : 0;
  if (values.json === true) {
    const telemetryOut = { spans: spanReport, push: pushed, metrics_port: metricsPort === 0 ? null : metricsPort };
    io.out(`${stableJson({ run_dir: runDir, exit_code: exitCode, telemetry: telemetryOut, totals: run.totals, cells: cells.map((c) => ({ id: c.id, status: c.status, throughput_ops_s: c.throughput_ops_s, usable_for_gate: c.usable_for_gate, failures: c.failures, gaps: c.gaps, correctness: c.correctness })) })}\n`);
  } else {
    io.out(readFileSync(join(runDir, 'summary.txt'), 'utf8'));
    io.out(`\nresults: ${runDir}\n`);
  }
  return exitCode;
}

export const runVerb: Verb = {
  name: 'run',
  summary: 'run workloads in every control mode and write a run folder',
  usage: RUN_USAGE,
  async run(argv, io) {
    const { values } = parseVerbArgs('run', argv, RUN_OPTIONS);
    if (values.help === true) {
      io.out(RUN_USAGE);
      return 0;
    }
    return executeRun(values, io, argv, null);
  },
};
