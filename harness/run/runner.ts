// Runs a planned matrix: fixtures once per workload and engine variant, one
// piscina pool per concurrency level, and each group (the cells that differ
// only in their mode set) as paired slices (group.ts): every round runs one
// slice per arm, in a balanced order, the same operations from the same
// state. Results are folded per cell.

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { FaultConfig } from '../../engine/index.ts';
import { referenceAdapter } from '../engines/reference.ts';
import type { EngineBuild } from '../engines/build.ts';
import type { CellEngineDescription, EngineAdapter, Fixture } from '../engines/adapter.ts';
import type { EngineAdapters } from '../engines/index.ts';
import type { Cell, Group } from '../plan/matrix.ts';
import { faultsOf, modeSetArg } from '../plan/modes.ts';
import { Accumulator, initHistograms, type HistogramSummary } from '../record/aggregate.ts';
import { DEFAULT_SAMPLE_RATIO, type WindowDelta } from '../record/recorder.ts';
import { latencyOpOf } from '../record/keys.ts';
import { collectGarbage } from '../runtime/gc.ts';
import { findGaps } from './gaps.ts';
import { runGroup, type RoundResult } from './group.ts';
import type { RoundChunks, RoundSched } from './round-book.ts';
import type { GroupPlan } from '../results/record.ts';
import { DEFAULT_TRIGGER_CONFIG, type FallbackEvent, type TriggerConfig } from '../cards/evaluator.ts';
import { counterexample, replayCommand, type Counterexample } from '../cards/counterexample.ts';

/** Arms interleaved slice by slice in a balanced order (the only schedule: see group.ts). */
export type Schedule = 'interleaved';

/** The slice length operation counts are calibrated to: 100 ms slices measured a per-pair sd of ~0.05 here, 20 ms ones 0.16-0.28. */
export const DEFAULT_SLICE_MS = 100;

export interface MoreRounds {
  /** After measured round `round` of a group (at least `rounds` of them): whether to run another. Sees the group's cells. */
  another: (group: Group, round: number, results: ReadonlyMap<string, CellResult>) => boolean;
  /** Whether `another` reads the round just measured: it is folded first, not while the next round's arms warm up. */
  readsRound: boolean;
}

export interface RunOptions {
  groups: Group[];
  rounds: number;
  /** The slice length operation counts are calibrated to (ms); DEFAULT_SLICE_MS when absent. */
  sliceMs?: number;
  /** Whether a group runs another measured round past `rounds` (the target-MDE loop, the time budget). */
  more?: MoreRounds;
  /** Operations per slice of each group from a recorded run (replay), by group key. */
  opsPerSlice?: ReadonlyMap<string, number>;
  seed: number;
  /** Run-wide faults; a mode set's own are added for its cells. */
  faults: FaultConfig;
  /** Arms interleaved slice by slice (the only schedule; recorded in the run record). */
  schedule?: Schedule;
  runDir: string;
  traceOut?: string | null;
  traceIn?: string | null;
  onWindow?: (cell: Cell, delta: WindowDelta) => void;
  onRound?: (cell: Cell, round: RoundResult | null, done: number, total: number) => void;
  /** Before each group, when nothing is measured: the time for exports and other work (awaited). */
  onGroup?: (group: Group, done: number, total: number) => void | Promise<void>;
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
   * Unmeasured rounds of every group after its calibration slices, before
   * its measured ones (default 0).
   */
  warmupRounds?: number;
  /** The frozen build a twin arm runs beside each reference group, its speed reading (run/twin.ts); default none. */
  twin?: EngineBuild | null;
}

export interface RoundSummary {
  round: number;
  operations: number;
  measured_ms: number;
  throughput_ops_s: number;
  /** Per operation kind: latency (from the intended start) of successful operations. */
  latency_ns: Record<string, HistogramSummary>;
  /** On-CPU time per operation (ns) and the share of the connections' wall time spent waiting for a CPU; null where unavailable (absent in runs before slices). */
  cpu_ns_per_op?: number | null;
  runq_share?: number | null;
  /** This round's run-queue wait share is far above its siblings' (the machine, not the code). */
  contended?: boolean;
  /** The round's chunks (interleaved rounds): wall time and median latency of the busiest kind of each. */
  chunks?: RoundChunks;
  /** The yardstick's median unit time in this round (ns): the machine's speed, to compare runs at one speed. */
  yardstick_ns?: number | null;
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
  /** How its group was scheduled: the bound, operations per slice, every round's arm order. */
  plan: GroupPlan | null;
}

const WORKER = fileURLToPath(new URL('../pool/worker.mjs', import.meta.url));

function roundSummary(r: RoundResult): RoundSummary {
  const latency_ns: Record<string, HistogramSummary> = {};
  for (const name of r.aggregate.histograms.keys()) {
    const op = latencyOpOf(name);
    if (op !== null) latency_ns[op] = r.aggregate.summary(name)!;
  }
  const s: RoundSched | null = r.sched;
  return {
    round: r.round,
    operations: r.operations,
    measured_ms: Math.round(r.measured_ms * 1000) / 1000,
    throughput_ops_s: r.measured_ms > 0 ? Math.round((r.operations / r.measured_ms) * 1e5) / 100 : 0,
    latency_ns,
    cpu_ns_per_op: s === null || r.operations === 0 ? null : Math.round((s.cpu_ms * 1e6) / r.operations),
    runq_share: s === null || s.wall_ms <= 0 ? null : Math.round((s.runq_ms / s.wall_ms) * 1e4) / 1e4,
    contended: false,
    ...(r.chunks === null ? {} : { chunks: r.chunks }),
    yardstick_ns: r.yardstick_ns,
    state_hash: null,
    failures: r.failures,
  };
}

/**
 * Marks rounds whose run-queue wait share is far above their siblings': more
 * than 3x the cell's median share and above 5% of its wall time.
 */
export function markContended(rounds: RoundSummary[]): void {
  const shares = rounds
    .map((r) => r.runq_share)
    .filter((x): x is number => typeof x === 'number')
    .sort((a, b) => a - b);
  if (shares.length === 0) return;
  const median = shares[shares.length >> 1]!;
  for (const r of rounds) r.contended = typeof r.runq_share === 'number' && r.runq_share > 0.05 && r.runq_share > 3 * median;
}

export async function runMatrix(o: RunOptions): Promise<CellResult[]> {
  await initHistograms();
  const workDir = join(o.runDir, 'work');
  mkdirSync(workDir, { recursive: true });
  const fixtures = new Map<string, Fixture>();
  const results = new Map<string, CellResult>();
  const total = o.groups.reduce((n, g) => n + g.cells.length, 0) * o.rounds;
  let done = 0;
  const traced = new Set<string>();
  if (o.traceOut != null) mkdirSync(o.traceOut, { recursive: true });

  // One pool for the whole run, as many threads as its largest group has connections: a pool thread holds
  // ~45 MB (its heap and the harness's modules), and a pool per concurrency kept c1, c4 and c8's 13 threads
  // alive together. Threads start on demand (minThreads 0), so a c1 group does not share the CPU with
  // seven starting threads, and a larger group reuses the ones that exist.
  const maxThreads = Math.max(1, ...o.groups.flatMap((g) => g.cells.map((c) => c.concurrency)));
  const pool = { current: null as Piscina | null };
  const poolFor = (): Piscina => {
    if (pool.current === null) {
      pool.current = new Piscina({ filename: WORKER, minThreads: 0, maxThreads, concurrentTasksPerWorker: 1, idleTimeout: 10 * 60_000 });
      o.onPool?.(pool.current);
    }
    return pool.current;
  };
  const resultOf = (cell: Cell): CellResult => {
    let r = results.get(cell.id);
    if (r === undefined) {
      r = {
        cell,
        status: 'ok',
        failures: [],
        rounds: [],
        aggregate: new Accumulator(),
        operations: 0,
        measured_ms: 0,
        gaps: [],
        not_reported: [],
        correctness: [],
        notes: [],
        events: [],
        counterexamples: [],
        engine: null,
        faults: faultsOf(o.faults, cell.modeSet),
        plan: null,
      };
      results.set(cell.id, r);
    }
    return r;
  };
  const engineOf = (cell: Cell): EngineAdapter => {
    const e = cell.variant === 'reference' ? (o.engines?.reference ?? referenceAdapter) : o.engines?.[cell.variant];
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

  /** Folds one arm's measured round into its cell. */
  const onRound = (cell: Cell, r: RoundResult): void => {
    const res = resultOf(cell);
    res.rounds.push(roundSummary(r));
    res.aggregate.merge(r.aggregate);
    res.operations += r.operations;
    res.measured_ms += r.measured_ms;
    res.engine ??= r.engine;
    res.events.push(...r.events);
    const replay = replayCommand({
      workloadFile: cell.workload.file,
      backend: cell.backend,
      concurrency: cell.concurrency,
      modes: modeSetArg(cell.modeSet),
      seed: o.seed,
      rounds: r.round,
      durationMs: o.sliceMs ?? DEFAULT_SLICE_MS,
      inject: injectArgs(res.faults),
      traceDir: o.traceOut ?? null,
      runDir: o.runDir,
    });
    for (const e of r.events) res.counterexamples.push(counterexample(e, r.aggregate.anomalies, r.aggregate.samples, replay));
    reported.set(cell.id, r.reported);
    r.aggregate.destroy();
    o.onRound?.(cell, r, ++done, Math.max(total, done));
  };
  const reported = new Map<string, RoundResult['reported']>();

  try {
    for (const group of o.groups) {
      const first = group.cells[0]!;
      await o.onGroup?.(group, done, total);
      // Record each workload and concurrency's streams once: every backend and mode runs the same ones.
      const traceKey = `${first.workload.spec.name}.c${first.concurrency}`;
      const traceOut = o.traceOut != null && !traced.has(traceKey) ? o.traceOut : null;
      if (traceOut !== null) traced.add(traceKey);
      let outcome;
      try {
        outcome = await runGroup(group, {
          pool: poolFor(),
          engine: engineOf(first),
          fixture: await fixtureOf(first),
          seed: o.seed,
          faultsOf: (cell) => resultOf(cell).faults,
          workDir,
          traceOut,
          traceIn: o.traceIn ?? null,
          triggers: o.triggers ?? DEFAULT_TRIGGER_CONFIG,
          sampleRatio: o.sampleRatio ?? DEFAULT_SAMPLE_RATIO,
          fieldRecords: o.fieldRecords ?? true,
          shadowSampleRatio: o.shadowSampleRatio ?? 1,
          rounds: o.rounds,
          warmupRounds: o.warmupRounds ?? 0,
          sliceMs: o.sliceMs ?? DEFAULT_SLICE_MS,
          ...(o.opsPerSlice?.get(group.key) === undefined ? {} : { opsPerSlice: o.opsPerSlice.get(group.key)! }),
          onWindow: o.onWindow ?? (() => {}),
          onRound,
          twin: o.twin ?? null,
          ...(o.more === undefined ? {} : { more: (round: number) => o.more!.another(group, round, results), moreReadsRound: o.more.readsRound }),
        });
      } catch (err) {
        outcome = { plan: null, failures: [(err as Error).message], hashes: [] };
      }
      group.cells.forEach((cell, i) => {
        const res = resultOf(cell);
        res.plan = outcome.plan;
        for (const f of outcome.failures) res.failures.push(f);
        const h = outcome.hashes[i];
        if (h?.failure != null) res.failures.push(h.failure);
        if (h?.hash_skipped != null) res.notes.push(`final state not compared across modes: ${h.hash_skipped}`);
        const last = res.rounds.at(-1);
        if (last !== undefined && h !== undefined) last.state_hash = h.state_hash;
      });
      checkHashes(group, resultOf);
      // The group's databases are garbage now; this thread would otherwise keep them until a collection came due.
      collectGarbage();
    }
  } finally {
    await pool.current?.destroy();
    rmSync(workDir, { recursive: true, force: true });
  }

  return [...results.values()].map((r) => {
    markContended(r.rounds);
    ({ gaps: r.gaps, not_reported: r.not_reported } = findGaps(r.cell.workload.spec, r.cell.backend, r.aggregate.counters, reported.get(r.cell.id)));
    r.status = r.failures.length === 0 ? 'ok' : 'failed';
    return r;
  });
}

/** The `--inject` arguments that reproduce a fault configuration. */
function injectArgs(faults: FaultConfig): string[] {
  return Object.entries(faults).flatMap(([cls, f]) => Object.entries(f ?? {}).map(([name, v]) => `${cls}.${name}=${String(v)}`));
}

/** Deterministic cells of one group ran the same operations: they must end in the same state, whatever their modes. */
function checkHashes(group: Group, resultOf: (c: Cell) => CellResult): void {
  const hashOf = (c: Cell): string | null => resultOf(c).rounds.at(-1)?.state_hash ?? null;
  const known = group.cells.filter((c) => c.deterministic && hashOf(c) !== null);
  const reference = known[0];
  if (reference === undefined) return;
  const want = hashOf(reference)!;
  for (const c of known.slice(1)) {
    if (hashOf(c) !== want) {
      resultOf(c).correctness.push(`final state hash ${hashOf(c)!.slice(0, 16)} differs from ${reference.modeSet.label}'s ${want.slice(0, 16)}`);
      resultOf(reference).correctness.push(`final state differs from ${c.modeSet.label}'s`);
    }
  }
}
