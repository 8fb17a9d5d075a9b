// The "do a run" service behind `run`, `replay` and `nightly`: runs checked
// settings (harness/run/settings.ts) with live metrics and spans, writes the
// run folder, and returns the run in memory, so a caller judges or stores it
// without reading the folder back.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../../engine/index.ts';
import { runRecordOf, writeRun } from './record.ts';
import type { RunFolder } from '../results/folder.ts';
import { SpecError } from '../spec/load.ts';
import { RunMetrics } from '../telemetry/metrics.ts';
import { pushMetrics, serveMetrics, type MetricsServer, type PushResult } from '../telemetry/serve.ts';
import { SpanSink, type SpanReport } from '../telemetry/spans.ts';
import { FixtureError } from '../engines/fixture.ts';
import { runMatrix, type MoreRounds } from './runner.ts';
import { twinYardstick } from './twin.ts';
import type { RunSettings } from './settings.ts';
import { targetMdeLoop } from './target.ts';
import { roundBudgetLoop } from './budget.ts';

/** A fresh run id: the UTC start time, the seed and the process. */
export function runId(now: Date, seed: number): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-s${seed}-${process.pid}`;
}

export interface RunProgress {
  tick(done: number, total: number, label: string): void;
  stop(): void;
}

export interface ExecuteOptions {
  settings: RunSettings;
  /** Where run folders go. */
  outDir: string;
  argv: readonly string[];
  /** The run folder's name (default: a fresh run id). */
  runId?: string;
  /** The run folder whose recorded operation streams this run drives again. */
  replayOf?: string | null;
  /** Record every operation stream into <run-dir>/trace/ for replay. */
  record?: boolean;
  /** The nightly baseline name this run belongs to, recorded in its config. */
  nightly?: string | null;
  /** Diagnostics (stderr). */
  log(text: string): void;
  quiet?: boolean;
  progress?: RunProgress;
}

export interface RunTelemetry {
  spans: SpanReport;
  push: PushResult | null;
  metrics_port: number | null;
}

/** A run that ran (0: every cell ran, 1: a cell failed or modes disagreed), or one that could not start (2, said on the log). */
export type RunOutcome =
  { exitCode: 0 | 1; runDir: string; folder: RunFolder; telemetry: RunTelemetry } | { exitCode: 2; runDir: null; folder: null; telemetry: null };

const NO_PROGRESS: RunProgress = { tick: () => {}, stop: () => {} };

export async function executeRun(o: ExecuteOptions): Promise<RunOutcome> {
  const failed: RunOutcome = { exitCode: 2, runDir: null, folder: null, telemetry: null };
  const {
    faults,
    variants,
    engines,
    triggers,
    sampleRatio,
    shadowSampleRatio,
    backends,
    concurrency,
    seed,
    metricsPort,
    pushUrl,
    otlp,
    duration_ms,
    sliceMs,
    target,
    budget,
    quick,
    rounds,
    warmupRounds,
    modeSets,
    workloads,
    groups,
  } = o.settings;
  const replayOf = o.replayOf ?? null;
  const quiet = o.quiet === true;

  const started = new Date();
  const id = o.runId ?? runId(started, seed);
  const runDir = join(o.outDir, id);
  mkdirSync(runDir, { recursive: true });
  const telemetry = metricsPort > 0 || pushUrl !== null ? new RunMetrics({ run: id }) : null;
  if (telemetry !== null) for (const g of groups) for (const c of g.cells) telemetry.addCell(c);
  let server: MetricsServer | null = null;
  if (telemetry !== null && metricsPort > 0) {
    try {
      server = await serveMetrics(telemetry, metricsPort);
    } catch (err) {
      o.log(`shadowbench run: cannot serve metrics on 127.0.0.1:${metricsPort}: ${(err as Error).message}\n`);
      return failed;
    }
    if (!quiet) o.log(`metrics: ${server.url}\n`);
  }
  const spans = new SpanSink({ run: id, otlp, file: join(runDir, 'spans.jsonl') });
  const bar = o.progress ?? NO_PROGRESS;
  const startMs = Date.now();
  // A target adds rounds past --rounds and reads each to decide; a budget trims them by the clock alone.
  const more: MoreRounds | null =
    target !== null
      ? { another: targetMdeLoop(target, groups), readsRound: true }
      : budget !== null
        ? { another: roundBudgetLoop(budget, rounds, warmupRounds, groups), readsRound: false }
        : null;
  let results;
  try {
    results = await runMatrix({
      groups,
      // A budget runs every group's --min-rounds, then asks before each further round up to --rounds.
      rounds: budget === null ? rounds : budget.minRounds,
      warmupRounds,
      sliceMs,
      seed,
      faults,
      runDir,
      triggers,
      sampleRatio,
      shadowSampleRatio,
      engines,
      twin: o.settings.twin,
      ...(more === null ? {} : { more }),
      traceOut: o.record === true ? join(runDir, 'trace') : null,
      traceIn: replayOf === null ? null : join(replayOf, 'trace'),
      onWindow: (cell, delta) => {
        telemetry?.onWindow(cell, delta);
        spans.onWindow(cell, delta);
      },
      onGroup: () => spans.flush(),
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
      o.log(`shadowbench run: ${err.message}\n`);
      return failed;
    }
    throw err;
  }
  bar.stop();
  await server?.close();
  let pushed: PushResult | null = null;
  if (telemetry !== null && pushUrl !== null) {
    pushed = await pushMetrics(telemetry, pushUrl);
    o.log(`shadowbench run: ${pushed.ok ? '' : 'warning: '}${pushed.message}\n`);
  }
  const spanReport: SpanReport = await spans.shutdown();
  if (spanReport.dropped > 0 || spanReport.failed > 0) {
    o.log(
      `shadowbench run: warning: spans: ${spanReport.exported} of ${spanReport.ended} exported to ${spanReport.destination}, ${spanReport.failed} failed, ${spanReport.dropped} dropped${spanReport.errors.length > 0 ? ` (${spanReport.errors[0]})` : ''}\n`,
    );
  } else if (!quiet) {
    o.log(`spans: ${spanReport.exported} exported to ${spanReport.destination}\n`);
  }
  const endMs = Date.now();
  const run = runRecordOf({
    run_id: id,
    started,
    ended: new Date(endMs),
    argv: o.argv,
    results,
    config: {
      seed,
      rounds,
      warmup_rounds: warmupRounds,
      schedule: 'interleaved',
      quick,
      duration_ms: duration_ms ?? null,
      variants,
      mode_sets: modeSets.map((m) => m.label),
      workloads: workloads.map((w) => ({ name: w.spec.name, file: w.file, fixture_sha256: w.spec.fixture.sha256 ?? null })),
      backends: backends ?? null,
      concurrency: concurrency ?? null,
      faults,
      mode_set_faults: Object.fromEntries(modeSets.filter((m) => Object.keys(m.faults).length > 0).map((m) => [m.label, m.faults])),
      target_mde: target?.mde ?? null,
      max_time_ms: target?.maxTimeMs ?? budget?.maxTimeMs ?? null,
      min_rounds: budget?.minRounds ?? null,
      window_ms: sliceMs,
      trace_recorded: o.record === true,
      replay_of: replayOf,
      nightly: o.nightly ?? null,
      ...(o.settings.twin === null ? {} : { yardstick: twinYardstick(o.settings.twin) }),
    },
  });
  const folder = writeRun(runDir, run, results, startMs, endMs);
  for (const r of results) r.aggregate.destroy();
  return {
    exitCode: run.totals.failed > 0 || run.totals.correctness_failures > 0 ? 1 : 0,
    runDir,
    folder,
    telemetry: { spans: spanReport, push: pushed, metrics_port: metricsPort === 0 ? null : metricsPort },
  };
}
