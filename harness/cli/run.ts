// `shadowbench run`: plans the matrix, runs it, writes the run folder.
// Exit 0 when every cell ran, 1 when a cell failed (or reached a different
// final state than its siblings), 2 on bad input.

import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKENDS, EngineError, type Backend, type FaultConfig } from '../../engine/index.ts';
import { runRecordOf, writeRun, type RunRecord } from '../output/write.ts';
import { planMatrix } from '../plan/matrix.ts';
import { DEFAULT_EXTERNAL_TIMEOUT_MS, ENGINE_VARIANTS, engineAdapters, isEngineVariant, type EngineAdapters, type EngineVariant } from '../engines/index.ts';
import { applyInjections, ModeSetError, parseModeSets } from '../plan/modes.ts';
import { FixtureError } from '../run/fixture.ts';
import { DEFAULT_WINDOW_MS, runMatrix, type Schedule } from '../run/runner.ts';
import { DEFAULT_SAMPLE_RATIO } from '../record/recorder.ts';
import { SpecError, resolveWorkloads } from '../spec/load.ts';
import { TRIGGERS } from '../cards/cards.ts';
import { parseProfile, type TriggerConfig } from '../cards/evaluator.ts';
import type { KillSwitchProfile } from '../cards/types.ts';
import { RunMetrics } from '../telemetry/metrics.ts';
import { parsePushUrl, pushMetrics, PushUrlError, serveMetrics, type MetricsServer, type PushResult } from '../telemetry/serve.ts';
import { otlpTracesUrl, SpanSink, SpanUrlError, type SpanReport } from '../telemetry/spans.ts';
import { progress } from './progress.ts';
import { UsageError, parseVerbArgs, stableJson, type Io, type Verb } from './verb.ts';

export const RUN_OPTIONS = {
  workload: { type: 'string', multiple: true },
  variant: { type: 'string', multiple: true },
  'engine-cmd': { type: 'string' },
  'engine-timeout': { type: 'string' },
  backend: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  modes: { type: 'string' },
  rounds: { type: 'string' },
  seed: { type: 'string' },
  duration: { type: 'string' },
  schedule: { type: 'string' },
  inject: { type: 'string', multiple: true },
  threshold: { type: 'string', multiple: true },
  'kill-switch': { type: 'string', multiple: true },
  out: { type: 'string' },
  full: { type: 'boolean' },
  record: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'metrics-port': { type: 'string' },
  push: { type: 'string' },
  otlp: { type: 'string' },
  'sample-ratio': { type: 'string' },
  'shadow-sample': { type: 'string' },
} as const;

export const RUN_USAGE = `Usage: shadowbench run [options]

Runs workloads against the engine in every requested control mode, rounds
interleaved, and writes results/<run-id>/ (run.json, summary.json,
summary.txt, histograms/*.hlog).

Options:
  --workload NAME|FILE   a canonical workload or a spec file (repeatable; default: the quick canonical suite)
  --variant LIST         engine variants, comma-separated (default: reference):
                           reference  this repository's engine, every requested mode set
                           sqlite     SQLite (better-sqlite3): WAL file; memory = WAL file on /dev/shm; one mode set, n/a
                           external   an engine in another process over the line protocol (README: External engines)
                         with several, the summary shows them side by side (reference best mode / comparator ratios)
  --engine-cmd CMD       the external variant's peer command line, run by /bin/sh (e.g. "node test/fixtures/line-engine.mjs")
  --engine-timeout MS    how long the external peer may take to answer one request (default 10000; e.g. 2s)
  --backend memory|file  restrict backends (repeatable or comma-separated; default: each spec's own)
  --concurrency LIST     connection counts, e.g. 1,4,8 (default: the spec's)
  --modes LIST           mode sets, comma-separated: legacy, shadow_compare, new, or CLASS=MODE joined by +
                         (e.g. M6=snapshot+M11=sharded), optionally named NAME:MODES (a:legacy,b:legacy for an A/A pair);
                         default: legacy,shadow_compare,new
  --rounds N             interleaved rounds per cell (default 3; 2 for the quick suite)
  --seed N               seed of the operation streams and faults (default 1)
  --duration MS          measured duration of every cell, in ms (e.g. 2000, or 2s)
  --schedule interleaved|concurrent
                         concurrent runs one pool per mode set at the same time (figures share the machine)
  --inject CLASS.FAULT=VALUE[@SET]
                         fault injection into the reference engine, repeatable (e.g. M6.stale_publish=0.01, M6.delay_ns=2000);
                         @SET scopes it to one mode set (e.g. --modes base:legacy,slow:legacy --inject M6.delay_ns=900@slow)
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

const RESULTS_DIR = fileURLToPath(new URL('../../results/', import.meta.url));

function intArg(name: string, v: string | undefined, fallback: number, min = 1): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`shadowbench run: --${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

function durationArg(v: string | undefined, name = 'duration'): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(v.trim());
  if (m === null || Number(m[1]) <= 0) throw new UsageError(`shadowbench run: --${name} must be a positive number of ms (or with an s suffix), got '${v}'`);
  return Math.round(Number(m[1]) * (m[2] === 's' ? 1000 : 1));
}

function listArg(values: readonly string[] | undefined): string[] | undefined {
  return values?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** `--variant`, `--engine-cmd`, `--engine-timeout`: the variants and their adapters. */
function enginesArg(values: ParsedRun['values']): { variants: EngineVariant[]; engines: EngineAdapters } {
  const variants = (listArg(values.variant) ?? ['reference']).map((v) => {
    if (!isEngineVariant(v)) throw new UsageError(`shadowbench run: --variant '${v}' is not one of ${ENGINE_VARIANTS.join(', ')}`);
    return v;
  });
  if (new Set(variants).size !== variants.length) throw new UsageError(`shadowbench run: --variant lists a variant twice: ${variants.join(',')}`);
  const external = variants.includes('external');
  const command = values['engine-cmd']?.trim();
  if (!external && (command !== undefined || values['engine-timeout'] !== undefined)) throw new UsageError('shadowbench run: --engine-cmd and --engine-timeout need --variant external');
  if (external && (command === undefined || command === '')) throw new UsageError('shadowbench run: --variant external needs --engine-cmd "<command that starts the peer>"');
  if ((values.inject ?? []).length > 0 && !variants.includes('reference')) throw new UsageError('shadowbench run: --inject applies to the reference engine only, which --variant leaves out');
  const timeoutMs = durationArg(values['engine-timeout'], 'engine-timeout') ?? DEFAULT_EXTERNAL_TIMEOUT_MS;
  return { variants, engines: engineAdapters(variants, command === undefined ? null : { command, timeoutMs }) };
}

/** `--threshold ID=VALUE` and `--kill-switch ID=latch|K/N`, checked against the cards' trigger ids. */
function triggerConfig(thresholds: readonly string[], profiles: readonly string[]): TriggerConfig {
  const known = (id: string, flag: string): void => {
    if (!TRIGGERS.has(id)) throw new UsageError(`shadowbench run: ${flag} ${id}: no such trigger (known: ${[...TRIGGERS.keys()].join(', ')})`);
  };
  const t = new Map<string, number>();
  for (const arg of thresholds) {
    const [id = '', raw = ''] = arg.split('=');
    known(id, '--threshold');
    const v = Number(raw);
    if (raw === '' || !Number.isFinite(v) || v < 0) throw new UsageError(`shadowbench run: --threshold ${arg}: the value must be a non-negative number`);
    t.set(id, v);
  }
  const p = new Map<string, KillSwitchProfile>();
  for (const arg of profiles) {
    const [id = '', raw = ''] = arg.split('=');
    known(id, '--kill-switch');
    const profile = parseProfile(raw);
    if (profile === null) throw new UsageError(`shadowbench run: --kill-switch ${arg}: expected latch or K/N (e.g. 3/1000)`);
    p.set(id, profile);
  }
  return { thresholds: t, profiles: p };
}

export function runId(now: Date, seed: number): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-s${seed}-${process.pid}`;
}

export interface ParsedRun {
  values: ReturnType<typeof parseVerbArgs<typeof RUN_OPTIONS>>['values'];
}

export interface RunOutcome {
  exitCode: number;
  /** Null when the run could not start (exit 2). */
  runDir: string | null;
  run: RunRecord | null;
}

export interface RunShape {
  /** Rounds when --rounds is absent. */
  defaultRounds?: number;
  /** Caps duration-bound cells (see PlanOptions.max_duration_ms). */
  max_duration_ms?: number;
  /** False: the caller prints its own report (no summary table, no run JSON). */
  print?: boolean;
  /** The nightly baseline name this run belongs to, recorded in its config. */
  nightly?: string;
}

/** Shared by `run`, `replay` and `nightly`: everything but where the operations come from. */
export async function executeRun(values: ParsedRun['values'], io: Io, argv: readonly string[], replayOf: string | null, shape: RunShape = {}): Promise<RunOutcome> {
  const failed = (exitCode: number): RunOutcome => ({ exitCode, runDir: null, run: null });
  const { variants, engines } = enginesArg(values);
  const triggers = triggerConfig(values.threshold ?? [], values['kill-switch'] ?? []);
  const sampleRatio = values['sample-ratio'] === undefined ? DEFAULT_SAMPLE_RATIO : Number(values['sample-ratio']);
  if (!(sampleRatio >= 0 && sampleRatio <= 1)) throw new UsageError(`shadowbench run: --sample-ratio must be a number in [0, 1], got '${values['sample-ratio']}'`);
  const shadowSampleRatio = values['shadow-sample'] === undefined ? 1 : Number(values['shadow-sample']);
  if (!(shadowSampleRatio >= 0 && shadowSampleRatio <= 1)) throw new UsageError(`shadowbench run: --shadow-sample must be a number in [0, 1], got '${values['shadow-sample']}'`);
  const backends = listArg(values.backend);
  for (const b of backends ?? []) if (!(BACKENDS as readonly string[]).includes(b)) throw new UsageError(`shadowbench run: --backend '${b}' is not one of ${BACKENDS.join(', ')}`);
  const concurrency = values.concurrency === undefined ? undefined : listArg([values.concurrency])!.map((c) => intArg('concurrency', c.replace(/^c/, ''), 1));
  const schedule = (values.schedule ?? 'interleaved') as Schedule;
  if (schedule !== 'interleaved' && schedule !== 'concurrent') throw new UsageError(`shadowbench run: --schedule must be interleaved or concurrent, got '${values.schedule}'`);
  const seed = intArg('seed', values.seed, 1, 0);

  const metricsPort = intArg('metrics-port', values['metrics-port'], 0, 0);
  if (metricsPort > 65535) throw new UsageError(`shadowbench run: --metrics-port must be a port number (1-65535, 0 = off), got '${values['metrics-port']}'`);
  let pushUrl: URL | null = null;
  if (values.push !== undefined) {
    try {
      pushUrl = parsePushUrl(values.push);
    } catch (err) {
      if (err instanceof PushUrlError) throw new UsageError(`shadowbench run: ${err.message}`);
      throw err;
    }
  }
  const otlp = values.otlp ?? (process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] || undefined) ?? null;
  if (otlp !== null) {
    try {
      otlpTracesUrl(otlp);
    } catch (err) {
      if (err instanceof SpanUrlError) throw new UsageError(`shadowbench run: ${values.otlp === undefined ? err.message.replace('--otlp', 'OTEL_EXPORTER_OTLP_ENDPOINT') : err.message}`);
      throw err;
    }
  }
  const duration_ms = durationArg(values.duration);
  const names = values.workload ?? [];
  const quick = names.length === 0 && values.full !== true;
  // Two interleaved rounds keep the quick suite near two minutes; full runs take three.
  const rounds = intArg('rounds', values.rounds, shape.defaultRounds ?? (quick ? 2 : 3));
  let modeSets;
  let faults: FaultConfig;
  let workloads;
  let groups;
  try {
    ({ faults, modeSets } = applyInjections(values.inject ?? [], parseModeSets(values.modes)));
    workloads = resolveWorkloads(names);
    groups = planMatrix({ workloads, modeSets, variants, quick, ...(backends === undefined ? {} : { backends: backends as Backend[] }), ...(concurrency === undefined ? {} : { concurrency }), ...(duration_ms === undefined ? {} : { duration_ms }), ...(shape.max_duration_ms === undefined ? {} : { max_duration_ms: shape.max_duration_ms }) });
  } catch (err) {
    if (err instanceof SpecError || err instanceof ModeSetError) throw new UsageError(err.message);
    if (err instanceof EngineError) throw new UsageError(`shadowbench run: ${err.message}`);
    throw err;
  }
  if (groups.length === 0) throw new UsageError('shadowbench run: the matrix is empty (no workload runs on the requested backends)');

  const started = new Date();
  const runDir = join(resolve(values.out ?? RESULTS_DIR), runId(started, seed));
  mkdirSync(runDir, { recursive: true });
  const telemetry = metricsPort > 0 || pushUrl !== null ? new RunMetrics({ run: runDir.split('/').pop()! }) : null;
  if (telemetry !== null) for (const g of groups) for (const c of g.cells) telemetry.addCell(c);
  let server: MetricsServer | null = null;
  if (telemetry !== null && metricsPort > 0) {
    try {
      server = await serveMetrics(telemetry, metricsPort);
    } catch (err) {
      io.err(`shadowbench run: cannot serve metrics on 127.0.0.1:${metricsPort}: ${(err as Error).message}\n`);
      return failed(2);
    }
    if (values.quiet !== true) io.err(`metrics: ${server.url}\n`);
  }
  const spans = new SpanSink({ run: runDir.split('/').pop()!, otlp, file: join(runDir, 'spans.jsonl') });
  const bar = progress(io, values.quiet !== true);
  const startMs = Date.now();
  let results;
  try {
    results = await runMatrix({
      groups, rounds, seed, faults, schedule, runDir, triggers, sampleRatio, shadowSampleRatio, engines,
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
      return failed(2);
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
  const run = runRecordOf({
    run_id: runDir.split('/').pop()!, started, ended: new Date(endMs), argv, results,
    config: {
      seed, rounds, schedule, quick, duration_ms: duration_ms ?? null, variants, mode_sets: modeSets.map((m) => m.label),
      workloads: workloads.map((w) => ({ name: w.spec.name, file: w.file, fixture_sha256: w.spec.fixture.sha256 ?? null })),
      backends: backends ?? null, concurrency: concurrency ?? null, faults,
      mode_set_faults: Object.fromEntries(modeSets.filter((m) => Object.keys(m.faults).length > 0).map((m) => [m.label, m.faults])),
      window_ms: DEFAULT_WINDOW_MS, trace_recorded: values.record === true, replay_of: replayOf, nightly: shape.nightly ?? null,
    },
  });
  const cells = run.cells;
  const engineComparison = writeRun(runDir, run, results, startMs, endMs);
  for (const r of results) r.aggregate.destroy();
  const exitCode = run.totals.failed > 0 || run.totals.correctness_failures > 0 ? 1 : 0;
  if (shape.print === false) {
    // The caller reports.
  } else if (values.json === true) {
    const telemetryOut = { spans: spanReport, push: pushed, metrics_port: metricsPort === 0 ? null : metricsPort };
    io.out(`${stableJson({ run_dir: runDir, exit_code: exitCode, telemetry: telemetryOut, totals: run.totals, engine_comparison: engineComparison, cells: cells.map((c) => ({ id: c.id, variant: c.variant, status: c.status, throughput_ops_s: c.throughput_ops_s, usable_for_gate: c.usable_for_gate, failures: c.failures, gaps: c.gaps, not_reported: c.not_reported, correctness: c.correctness })) })}\n`);
  } else {
    io.out(readFileSync(join(runDir, 'summary.txt'), 'utf8'));
    io.out(`\nresults: ${runDir}\n`);
  }
  return { exitCode, runDir, run };
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
    return (await executeRun(values, io, argv, null)).exitCode;
  },
};
