// One group (the cells that differ only in their mode set: the arms) run as
// paired slices. Every arm's database is opened and warmed before any clock
// starts; each connection is one pool thread that stays connected to every
// arm; a round runs one slice per arm, in the round's balanced order, each
// slice the same number of operations of the same stream. The two halves of
// a pair are therefore measured milliseconds apart on the same warmed
// threads, doing identical work from identical states, and the main thread
// merges, evaluates triggers and reports only between slices.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { SWITCHABLE_CLASSES, type FaultConfig, type MetadataClass } from '../../engine/index.ts';
import type { CellDatabase, CellEngineDescription, EngineAdapter, Fixture } from '../engines/adapter.ts';
import { CARDS } from '../cards/cards.ts';
import { LiveEvaluator, type FallbackEvent, type TriggerConfig } from '../cards/evaluator.ts';
import type { Cell, Group } from '../plan/matrix.ts';
import { RoundAggregate } from '../record/aggregate.ts';
import type { WindowDelta } from '../record/recorder.ts';
import { CMD_RUN, CMD_STOP, SLICE, type GroupTask, type SliceReport, type WorkerMessage } from '../pool/task.ts';
import { armOrder } from './schedule.ts';
import { SliceInbox } from './inbox.ts';

export interface GroupContext {
  pool: Piscina;
  engine: EngineAdapter;
  fixture: Fixture;
  seed: number;
  faultsOf: (cell: Cell) => FaultConfig;
  workDir: string;
  /** Directory to record the group's operation streams into (one file per connection), or null. */
  traceOut: string | null;
  /** Directory holding a recorded trace to replay, or null. */
  traceIn: string | null;
  triggers: TriggerConfig;
  sampleRatio: number;
  fieldRecords: boolean;
  /** The fraction of transactions shadow_compare compares (1 = all). */
  shadowSampleRatio: number;
  /** Measured rounds at least; `more` may ask for more. */
  rounds: number;
  /** Unmeasured rounds after calibration, before the measured ones. */
  warmupRounds: number;
  /** The slice length operations are calibrated to (ms). */
  sliceMs: number;
  /** Operations per slice from the spec or calibration when absent; a replay's slices end where the recorded ones did. */
  opsPerSlice?: number;
  onWindow: (cell: Cell, delta: WindowDelta) => void;
  /** After every measured round, one result per arm. */
  onRound: (cell: Cell, r: RoundResult) => void;
  /** After measured round `round` (>= `rounds`): whether to run another. */
  more?: (round: number) => boolean;
}

/** The scheduler's view of one arm in one round, summed over its connections. */
export interface RoundSched {
  cpu_ms: number;
  runq_ms: number;
  /** Connection-milliseconds of wall time (wall × connections). */
  wall_ms: number;
}

export interface RoundResult {
  round: number;
  aggregate: RoundAggregate;
  operations: number;
  /** Wall time of the slice (the slowest connection). */
  measured_ms: number;
  /** On-CPU and run-queue time of the slice's connections; null where the OS does not report them. */
  sched: RoundSched | null;
  failures: string[];
  /** Triggers that fired during the round, with the fallback applied. */
  events: FallbackEvent[];
  engine: CellEngineDescription;
  /** The card classes this engine reports (the others are not gaps). */
  reported: readonly MetadataClass[];
}

/** What the run record keeps of a group's schedule: which bound, how many operations, and every round's arm order. */
export interface GroupPlan {
  group: string;
  arms: string[];
  bound: 'operations';
  ops_per_slice: number;
  /** The slice length the count was calibrated to; null when the spec fixes the count. */
  slice_target_ms: number | null;
  /** Each arm's rate in its calibration slice (ops/s per connection, the slowest connection). */
  calibration: { arm: string; ops_per_s: number }[];
  warmup_rounds: number;
  rounds: { round: number; order: string[] }[];
}

export interface GroupOutcome {
  plan: GroupPlan;
  /** Failures that ended the group early. */
  failures: string[];
  /** Each arm's final state (deterministic cells), when the group completed. */
  hashes: (ArmHash | undefined)[];
}

/** The cards' allowed-difference policies, handed to the engine's shadow comparisons as they are declared. */
const ALLOWED_DIFFERENCES = Object.fromEntries(SWITCHABLE_CLASSES.map((c) => [c, [...CARDS[c].allowed_differences]]));

/** One trace per workload, concurrency and connection: every backend and mode replays the same one. */
export const traceFile = (dir: string, cell: Cell, connection: number): string => join(dir, `${cell.workload.spec.name}.c${cell.concurrency}.conn${connection}.trace`);

/** A slice that takes this much longer than its target is stuck (a connection died holding an engine lock). */
const SLICE_TIMEOUT_MS = 120_000;
/** Calibration sizes slices so the slowest arm's run this long, at least this many operations. */
const MIN_OPS_PER_SLICE = 1;

export async function runGroup(group: Group, ctx: GroupContext): Promise<GroupOutcome> {
  const cells = group.cells;
  const first = cells[0]!;
  const spec = first.workload.spec;
  const n = first.concurrency;
  const plan: GroupPlan = {
    group: group.key, arms: cells.map((c) => c.modeSet.label), bound: 'operations', ops_per_slice: 0,
    slice_target_ms: null, calibration: [], warmup_rounds: ctx.warmupRounds, rounds: [],
  };
  const dbs: CellDatabase[] = [];
  const dir = (i: number): string => join(ctx.workDir, `${cells[i]!.id}`);
  const failures: string[] = [];
  const hashes: (ArmHash | undefined)[] = [];
  try {
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i]!;
      dbs.push(await ctx.engine.openCell(spec, ctx.fixture, {
        backend: c.backend, concurrency: n, modes: c.modeSet.modes, faults: ctx.faultsOf(c), seed: ctx.seed,
        shadowSampleRatio: ctx.shadowSampleRatio, shadowAllowedDifferences: ALLOWED_DIFFERENCES,
      }, dir(i)));
    }
    await conduct(cells, dbs, ctx, plan, failures, hashes);
  } finally {
    for (const db of dbs) await db.close();
    for (let i = 0; i < cells.length; i++) rmSync(dir(i), { recursive: true, force: true });
  }
  return { plan, failures, hashes };
}

async function conduct(cells: Cell[], dbs: CellDatabase[], ctx: GroupContext, plan: GroupPlan, failures: string[], hashes: (ArmHash | undefined)[]): Promise<void> {
  const first = cells[0]!;
  const n = first.concurrency;
  const control = new SharedArrayBuffer(SLICE.WORDS * 4);
  const ctl = new Int32Array(control);
  const inbox = new SliceInbox(n);
  const channels: MessageChannel[] = [];
  const aborts: AbortController[] = [];
  const tasks = Array.from({ length: n }, (_, connection) => {
    const ch = new MessageChannel();
    channels.push(ch);
    ch.port1.on('message', (m: WorkerMessage) => inbox.take(m));
    const task: GroupTask = {
      arms: dbs.map((d) => d.handle), spec: first.workload.spec, seed: ctx.seed, connection, connections: n, control, port: ch.port2,
      trace_out: ctx.traceOut === null ? null : traceFile(ctx.traceOut, first, connection),
      trace_in: ctx.traceIn === null ? null : traceFile(ctx.traceIn, first, connection),
      sample_ratio: ctx.sampleRatio, field_records: ctx.fieldRecords,
    };
    const abort = new AbortController();
    aborts.push(abort);
    const run = ctx.pool.run(task, { transferList: [ch.port2], signal: abort.signal }) as Promise<unknown>;
    run.catch((err: unknown) => inbox.fail(connection, err));
    return run;
  });
  const stopAll = (why: string): void => {
    for (const a of aborts) if (!a.signal.aborted) a.abort(new Error(why));
  };

  let seq = 0;
  // A replay's slices are unbounded: each ends at the recorded slice's end mark.
  const replay = ctx.traceIn !== null;
  const slice = async (arm: number, ops: number, durationMs: number, measured: boolean, round: number): Promise<SliceReport[]> => {
    if (replay) {
      ops = 0;
      durationMs = 0;
    }
    ctl[SLICE.CMD] = CMD_RUN;
    ctl[SLICE.ARM] = arm;
    ctl[SLICE.OPS] = ops;
    ctl[SLICE.DURATION_MS] = durationMs;
    ctl[SLICE.MEASURED] = measured ? 1 : 0;
    ctl[SLICE.ROUND] = round;
    Atomics.store(ctl, SLICE.SEQ, ++seq);
    Atomics.notify(ctl, SLICE.SEQ);
    return inbox.slice(seq, (durationMs > 0 ? durationMs : ctx.sliceMs) + SLICE_TIMEOUT_MS);
  };

  const evaluators = dbs.map((d, i) => (d.shared === null ? null : new LiveEvaluator(cells[i]!.id, 0, d.shared, ctx.triggers)));
  const failedOps: number[] = [];
  let round = 0;
  /** The round in progress: its arms' aggregates, totals and whether each arm's slice completed. */
  let current: { aggregates: RoundAggregate[]; totals: { operations: number; measured_ms: number; sched: RoundSched | null }[]; ran: boolean[] } | null = null;
  const emit = (failure: string | null): void => {
    if (current === null) return;
    for (let i = 0; i < cells.length; i++) {
      if (!current.ran[i]) {
        current.aggregates[i]!.destroy();
        continue;
      }
      const t = current.totals[i]!;
      ctx.onRound(cells[i]!, {
        round, aggregate: current.aggregates[i]!.finish(), operations: t.operations, measured_ms: t.measured_ms, sched: t.sched,
        failures: failure === null ? [] : [failure], events: evaluators[i]?.events.filter((e) => e.round === round) ?? [],
        engine: dbs[i]!.describe(), reported: dbs[i]!.reported,
      });
    }
    current = null;
  };
  try {
    await inbox.ready(SLICE_TIMEOUT_MS);
    // Calibration: one unmeasured slice per arm, bounded as the spec's warm-up (or the slice length);
    // it also touches each fresh database's memory and warms the threads before anything is measured.
    const warm = first.warmup;
    const rates: number[] = [];
    for (const arm of armOrder(cells.length, 1, ctx.seed, plan.group)[0]!) {
      const reports = await slice(arm, warm?.operations ?? 0, warm?.operations !== undefined ? 0 : warm?.duration_ms ?? ctx.sliceMs, false, 0);
      rates[arm] = Math.min(...reports.map((r) => (r.wall_ms > 0 ? (r.operations / r.wall_ms) * 1000 : Infinity)));
    }
    plan.calibration = cells.map((c, i) => ({ arm: c.modeSet.label, ops_per_s: Math.round(rates[i]!) }));
    if (ctx.opsPerSlice !== undefined) plan.ops_per_slice = ctx.opsPerSlice;
    else if (first.run.operations !== undefined) plan.ops_per_slice = first.run.operations;
    else {
      plan.slice_target_ms = ctx.sliceMs;
      const slowest = Math.min(...rates.filter((r) => Number.isFinite(r)));
      plan.ops_per_slice = Math.max(MIN_OPS_PER_SLICE, Math.round((Number.isFinite(slowest) ? slowest : 1000) * (ctx.sliceMs / 1000)));
    }
    const orders = (rounds: number): number[][] => armOrder(cells.length, ctx.warmupRounds + rounds, ctx.seed, plan.group).slice(ctx.warmupRounds);
    for (const order of armOrder(cells.length, ctx.warmupRounds, ctx.seed, plan.group)) {
      for (const arm of order) await slice(arm, plan.ops_per_slice, 0, false, 0);
    }
    for (round = 1; ; round++) {
      const order = orders(round)[round - 1]!;
      plan.rounds.push({ round, order: order.map((a) => plan.arms[a]!) });
      current = {
        aggregates: cells.map(() => new RoundAggregate()),
        totals: cells.map(() => ({ operations: 0, measured_ms: 0, sched: { cpu_ms: 0, runq_ms: 0, wall_ms: 0 } as RoundSched | null })),
        ran: cells.map(() => false),
      };
      const { aggregates, totals, ran } = current;
      for (const arm of order) {
        const reports = await slice(arm, plan.ops_per_slice, 0, true, round);
        const cell = cells[arm]!;
        const ev = evaluators[arm] ?? null;
        if (ev !== null) ev.round = round;
        const t = totals[arm]!;
        for (const r of reports) {
          t.operations += r.operations;
          t.measured_ms = Math.max(t.measured_ms, r.wall_ms);
          if (r.sched === null || t.sched === null) t.sched = null;
          else {
            t.sched.cpu_ms += r.sched.cpu_ns / 1e6;
            t.sched.runq_ms += r.sched.runq_ns / 1e6;
            t.sched.wall_ms += r.wall_ms;
          }
          if (r.delta === null) continue;
          failedOps[arm] = (failedOps[arm] ?? 0) + failedIn(r.delta);
          aggregates[arm]!.add(r.delta);
          ev?.observe(r.delta);
          ctx.onWindow(cell, r.delta);
        }
        ran[arm] = true;
      }
      emit(null);
      if (round >= ctx.rounds && !(ctx.more?.(round) ?? false)) break;
    }
    // Every arm ran the same operations: deterministic cells must end in the same state.
    for (let i = 0; i < cells.length; i++) hashes[i] = await stateHashOf(cells[i]!, dbs[i]!, failedOps[i] ?? 0);
  } catch (err) {
    const failure = `${round === 0 ? 'calibration' : `round ${round}`}: ${(err as Error).message}`;
    failures.push(failure);
    stopAll('the group stopped after a failure');
    // What the arms measured before the failure is kept, marked with it.
    emit(failure);
  } finally {
    ctl[SLICE.CMD] = CMD_STOP;
    Atomics.store(ctl, SLICE.SEQ, ++seq);
    Atomics.notify(ctl, SLICE.SEQ);
    const settled = await settleWithin(tasks, SLICE_TIMEOUT_MS, stopAll);
    settled.forEach((s, connection) => {
      if (s.status === 'rejected' && failures.length === 0) failures.push(`connection ${connection}: ${describe(s.reason)}`);
    });
    // Let reports already queued on the ports arrive before closing them.
    await new Promise((resolve) => setImmediate(resolve));
    for (const ch of channels) ch.port1.close();
  }
}

/** The final state of a deterministic arm, or why it cannot be compared. */
export interface ArmHash {
  state_hash: string | null;
  hash_skipped: string | null;
  failure: string | null;
}

async function stateHashOf(cell: Cell, db: CellDatabase, failedOps: number): Promise<ArmHash> {
  if (!cell.deterministic) return { state_hash: null, hash_skipped: null, failure: null };
  if (failedOps > 0) return { state_hash: null, hash_skipped: `${failedOps} operation(s) failed after all retries`, failure: null };
  try {
    return { state_hash: await db.stateHash(), hash_skipped: null, failure: null };
  } catch (err) {
    return { state_hash: null, hash_skipped: null, failure: `state hash: ${(err as Error).message}` };
  }
}

/** Operations of a window that failed after all retries. */
function failedIn(delta: WindowDelta): number {
  let n = 0;
  for (const [k, v] of Object.entries(delta.counters)) if (k.startsWith('op.') && k.includes('.error.')) n += v;
  return n;
}

function describe(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown };
  return `${typeof e.message === 'string' ? e.message : String(err)}${typeof e.code === 'string' ? ` (${e.code})` : ''}`;
}

/** Settles every task; those still running after `ms` are stopped (piscina terminates their threads). */
async function settleWithin<T>(tasks: Promise<T>[], ms: number, stopAll: (why: string) => void): Promise<PromiseSettledResult<T>[]> {
  const timer = setTimeout(() => stopAll(`a connection did not stop within ${ms / 1000} s`), ms);
  try {
    return await Promise.allSettled(tasks);
  } finally {
    clearTimeout(timer);
  }
}
