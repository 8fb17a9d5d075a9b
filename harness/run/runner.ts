// Runs a planned matrix: fixtures once per workload and engine variant, one piscina pool per
// concurrency level (per mode set under `--schedule concurrent`), rounds
// interleaved across each group's mode sets, results folded per cell.

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { FaultConfig } from '../../engine/index.ts';
import { referenceAdapter } from '../engines/reference.ts';
import type { CellEngineDescription, EngineAdapter, Fixture } from '../engines/adapter.ts';
import type { EngineAdapters } from '../engines/index.ts';
import type { Cell, Group } from '../plan/matrix.ts';
import { faultsOf, modeSetArg } from '../plan/modes.ts';
import { Accumulator, initHistograms, summarize, type HistogramSummary } from '../record/aggregate.ts';
import { DEFAULT_SAMPLE_RATIO, type WindowDelta } from '../record/recorder.ts';
import { collectGarbage } from '../runtime/gc.ts';
import { findGaps } from './gaps.ts';
import { runRound, type RoundResult } from './round.ts';
import { DEFAULT_TRIGGER_CONFIG, type FallbackEvent, type TriggerConfig } from '../cards/evaluator.ts';
import { counterexample, replayCommand, type Counterexample } from '../cards/counterexample.ts';

export type Schedule = 'interleaved' | 'concurrent';

export interface RunOptions {
  groups: Group[];
  rounds: number;
  seed: number;
  /** Run-wide faults; a mode set's own are added for its cells. */
  faults: FaultConfig;
  schedule: Schedule;
  runDir: string;
  window_ms?: number;
  traceOut?: string | null;
  traceIn?: string | null;
  onWindow?: (cell: Cell, delta: WindowDelta) => void;
  onRound?: (cell: Cell, round: RoundResult | null, done: number, total: number) => void;
  /** Sees every pool the runner starts (diagnostics; tests kill its threads). */
  onPool?: (pool: Piscina) => void;
  /** Trigger thresholds and kill-switch profiles (the cards' defaults when absent). */
  triggers?: TriggerConfig;
  /** Head-sampling ratio of field records for spans (anomalies always); DEFAULT_SAMPLE_RATIO when absent. */
  sampleRatio?: number;
  /** False: no field records at all (telemetry off), only operation timings. Default true. */
  fieldRecords?: boolean;
  /** The fraction of transactions shadow_compare compares, keyed by trace_id (default 1: all). */
  shadowSampleRatio?: number;
  /** The adapter of each variant the groups use (default: the reference engine's). */
  engines?: EngineAdapters;
  /**
   * Unmeasured rounds of every cell of a group before its measured ones
   * (default 0). The first round after a pool starts runs cold (JIT, caches)
   * and would pull its pair apart; statistical runs want one.
   */
  warmupRounds?: number;
}

export interface RoundSummary {
  round: number;
  operations: number;
  measured_ms: number;
  throughput_ops_s: number;
  /** Per operation kind: latency (from the intended start) of successful operations. */
  latency_ns: Record<string, HistogramSummary>;
  state_hash: string | null;
  failures: string[];
}

export interface CellResult {
  cell: Cell;
  status: 'ok' | 'failed';
  failures: string[];
  rounds: RoundSummary[];
  aggregate: Accumulator;
  operations: number;
  measured_ms: number;
  gaps: string[];
  /** Expected card classes this engine declared it does not report (not gaps). */
  not_reported: string[];
  correctness: string[];
  /** Checks that could not run, said rather than passed silently. */
  notes: string[];
  /** Fired triggers and the fallbacks they applied (the audit log). */
  events: FallbackEvent[];
  /** One bundle per fired trigger, to reproduce it. */
  counterexamples: Counterexample[];
  engine: CellEngineDescription | null;
  /** The faults the cell ran with: run-wide and its mode set's own. */
  faults: FaultConfig;
}

/** Window deltas stream this often: live enough for trigger evaluation, cheap to merge. */
export const DEFAULT_WINDOW_MS = 500;

const WORKER = fileURLToPath(new URL('../pool/worker.mjs', import.meta.url));

function roundSummary(r: RoundResult): RoundSummary {
  const latency_ns: Record<string, HistogramSummary> = {};
  for (const [name, h] of r.aggregate.histograms) {
    const m = /^op\.([a-z_]+)\.latency_ns$/.exec(name);
    if (m !== null) latency_ns[m[1]!] = summarize(h);
  }
  return {
    round: r.round, operations: r.operations, measured_ms: Math.round(r.measured_ms * 1000) / 1000,
    throughput_ops_s: r.measured_ms > 0 ? Math.round((r.operations / r.measured_ms) * 1e5) / 100 : 0,
    latency_ns, state_hash: r.state_hash, failures: r.failures,
  };
}

export async function runMatrix(o: RunOptions): Promise<CellResult[]> {
  await initHistograms();
  const workDir = join(o.runDir, 'work');
  mkdirSync(workDir, { recursive: true });
  const fixtures = new Map<string, Fixture>();
  const pools = new Map<string, Piscina>();
  const results = new Map<string, CellResult>();
  const total = o.groups.reduce((n, g) => n + g.cells.length, 0) * o.rounds;
  let done = 0;
  const traced = new Set<string>();
  if (o.traceOut != null) mkdirSync(o.traceOut, { recursive: true });

  const poolFor = (cell: Cell): Piscina => {
    const key = o.schedule === 'concurrent' ? `${cell.concurrency}:${cell.modeSet.label}` : String(cell.concurrency);
    let pool = pools.get(key);
    if (pool === undefined) {
      pool = new Piscina({ filename: WORKER, minThreads: cell.concurrency, maxThreads: cell.concurrency, concurrentTasksPerWorker: 1, idleTimeout: 60_000 });
      pools.set(key, pool);
      o.onPool?.(pool);
    }
    return pool;
  };
  const resultOf = (cell: Cell): CellResult => {
    let r = results.get(cell.id);
    if (r === undefined) {
      r = { cell, status: 'ok', failures: [], rounds: [], aggregate: new Accumulator(), operations: 0, measured_ms: 0, gaps: [], not_reported: [], correctness: [], notes: [], events: [], counterexamples: [], engine: null, faults: faultsOf(o.faults, cell.modeSet) };
      results.set(cell.id, r);
    }
    return r;
  };
  const engineOf = (cell: Cell): EngineAdapter => {
    const e = cell.variant === 'reference' ? o.engines?.reference ?? referenceAdapter : o.engines?.[cell.variant];
    if (e === undefined) throw new Error(`no adapter for engine variant ${cell.variant}`);
    return e;
  };
  const fixtureOf = async (cell: Cell): Promise<Fixture> => {
    const { spec, file } = cell.workload;
    const key = `${cell.variant}/${spec.name}`;
    let f = fixtures.get(key);
    if (f === undefined) {
      f = await engineOf(cell).buildFixture(spec, file, join(workDir, 'fixtures', cell.variant));
      fixtures.set(key, f);
    }
    return f;
  };
  const reportedOf = new Map<string, RoundResult['reported']>();

  const roundOf = async (cell: Cell, round: number, traceOut: string | null, onWindow: RunOptions['onWindow']): Promise<RoundResult> => runRound(cell, round, {
    pool: poolFor(cell), engine: engineOf(cell), fixture: await fixtureOf(cell), seed: o.seed, faults: resultOf(cell).faults, workDir,
    window_ms: o.window_ms ?? DEFAULT_WINDOW_MS, traceOut, traceIn: o.traceIn ?? null,
    onWindow: onWindow ?? (() => {}), triggers: o.triggers ?? DEFAULT_TRIGGER_CONFIG, sampleRatio: o.sampleRatio ?? DEFAULT_SAMPLE_RATIO, fieldRecords: o.fieldRecords ?? true, shadowSampleRatio: o.shadowSampleRatio ?? 1,
  });

  /** Round 0: run and thrown away (no windows, no events kept), so no measured round is the cold one. */
  const warmOne = async (cell: Cell): Promise<void> => {
    try {
      (await roundOf(cell, 0, null, () => {})).aggregate.destroy();
    } catch (err) {
      resultOf(cell).notes.push(`warm-up round: ${(err as Error).message}`);
    }
  };

  const runOne = async (cell: Cell, round: number): Promise<RoundResult | null> => {
    const res = resultOf(cell);
    let r: RoundResult | null = null;
    // Record the stream once per workload and concurrency: it is the same for every backend and mode.
    const traceKey = `${cell.workload.spec.name}.c${cell.concurrency}`;
    const traceOut = o.traceOut != null && !traced.has(traceKey) ? o.traceOut : null;
    if (traceOut !== null) traced.add(traceKey);
    try {
      r = await roundOf(cell, round, traceOut, o.onWindow);
      res.rounds.push(roundSummary(r));
      res.aggregate.merge(r.aggregate);
      res.operations += r.operations;
      res.measured_ms += r.measured_ms;
      res.engine ??= r.engine;
      reportedOf.set(cell.id, r.reported);
      res.events.push(...r.events);
      const replay = replayCommand({
        workloadFile: cell.workload.file, backend: cell.backend, concurrency: cell.concurrency, modes: modeSetArg(cell.modeSet), seed: o.seed,
        durationMs: cell.run.duration_ms ?? null, inject: injectArgs(res.faults), traceDir: o.traceOut ?? null, runDir: o.runDir,
      });
      for (const e of r.events) res.counterexamples.push(counterexample(e, r.aggregate.anomalies, r.aggregate.samples, replay));
      for (const f of r.failures) res.failures.push(`round ${round}: ${f}`);
      if (r.hash_skipped !== null) res.notes.push(`round ${round}: final state not compared across modes: ${r.hash_skipped}`);
      r.aggregate.destroy();
      // The round's database is garbage now; this thread would otherwise keep it until a collection came due.
      collectGarbage();
    } catch (err) {
      res.failures.push(`round ${round}: ${(err as Error).message}`);
    }
    o.onRound?.(cell, r, ++done, total);
    return r;
  };

  try {
    // A replay runs exactly the recorded rounds; warm-up rounds would replay the trace once more.
    const warmups = o.traceIn == null ? o.warmupRounds ?? 0 : 0;
    for (const group of o.groups) {
      for (let w = 0; w < warmups; w++) for (const c of group.cells) await warmOne(c);
      for (let round = 1; round <= o.rounds; round++) {
        const hashes = new Map<string, string | null>();
        if (o.schedule === 'concurrent') {
          const rs = await Promise.all(group.cells.map((c) => runOne(c, round)));
          rs.forEach((r, i) => hashes.set(group.cells[i]!.id, r?.state_hash ?? null));
        } else {
          for (const c of group.cells) hashes.set(c.id, (await runOne(c, round))?.state_hash ?? null);
        }
        checkHashes(group, round, hashes, resultOf);
      }
    }
  } finally {
    await Promise.all([...pools.values()].map((p) => p.destroy()));
    rmSync(workDir, { recursive: true, force: true });
  }

  return [...results.values()].map((r) => {
    ({ gaps: r.gaps, not_reported: r.not_reported } = findGaps(r.cell.workload.spec, r.cell.backend, r.aggregate.counters, reportedOf.get(r.cell.id)));
    r.status = r.failures.length === 0 ? 'ok' : 'failed';
    return r;
  });
}

/** The `--inject` arguments that reproduce a fault configuration. */
function injectArgs(faults: FaultConfig): string[] {
  return Object.entries(faults).flatMap(([cls, f]) => Object.entries(f ?? {}).map(([name, v]) => `${cls}.${name}=${String(v)}`));
}

/** Deterministic cells of one group must end each round in the same state, whatever their modes. */
function checkHashes(group: Group, round: number, hashes: Map<string, string | null>, resultOf: (c: Cell) => CellResult): void {
  const known = group.cells.filter((c) => c.deterministic && hashes.get(c.id) !== null && hashes.get(c.id) !== undefined);
  const reference = known[0];
  if (reference === undefined) return;
  const want = hashes.get(reference.id)!;
  for (const c of known.slice(1)) {
    if (hashes.get(c.id) !== want) {
      const msg = `round ${round}: final state hash ${hashes.get(c.id)!.slice(0, 16)} differs from ${reference.modeSet.label}'s ${want.slice(0, 16)}`;
      resultOf(c).correctness.push(msg);
      resultOf(reference).correctness.push(`round ${round}: final state differs from ${c.modeSet.label}'s`);
    }
  }
}
