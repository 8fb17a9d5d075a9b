// One round of one cell: a fresh fixture copy opened by the cell's engine
// adapter, one pool task per connection released together by a barrier,
// window deltas merged as they arrive. A task that throws or whose worker
// dies fails the round with its cause; what the others recorded is kept.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { SWITCHABLE_CLASSES, type FaultConfig, type MetadataClass } from '../../engine/index.ts';
import type { CellDatabase, CellEngineDescription, EngineAdapter, Fixture } from '../engines/adapter.ts';
import { CARDS } from '../cards/cards.ts';
import type { Cell } from '../plan/matrix.ts';
import { RoundAggregate } from '../record/aggregate.ts';
import type { WindowDelta } from '../record/recorder.ts';
import type { ConnectionResult, ConnectionTask, WorkerMessage } from '../pool/task.ts';
import { LiveEvaluator, type FallbackEvent, type TriggerConfig } from '../cards/evaluator.ts';

export interface RoundContext {
  pool: Piscina;
  engine: EngineAdapter;
  fixture: Fixture;
  seed: number;
  faults: FaultConfig;
  workDir: string;
  window_ms: number;
  /** Directory to record traces into (one file per connection), or null. */
  traceOut: string | null;
  /** Directory holding a recorded trace to replay, or null. */
  traceIn: string | null;
  onWindow: (cell: Cell, delta: WindowDelta) => void;
  triggers: TriggerConfig;
  sampleRatio: number;
  fieldRecords: boolean;
  /** The fraction of transactions shadow_compare compares (1 = all). */
  shadowSampleRatio: number;
}

export interface RoundResult {
  round: number;
  aggregate: RoundAggregate;
  operations: number;
  /** Wall time of the measured phase (the slowest connection). */
  measured_ms: number;
  /** Final state hash, for deterministic cells that completed. */
  state_hash: string | null;
  /** Why a deterministic cell's state hash could not be taken (so the cross-mode check did not run). */
  hash_skipped: string | null;
  failures: string[];
  /** Triggers that fired during the round, with the fallback applied. */
  events: FallbackEvent[];
  engine: CellEngineDescription;
  /** The card classes this engine reports (the others are not gaps). */
  reported: readonly MetadataClass[];
}

const describeFailure = (connection: number, err: unknown): string => {
  const e = err as { message?: unknown; code?: unknown };
  return `connection ${connection}: ${typeof e.message === 'string' ? e.message : String(err)}${typeof e.code === 'string' ? ` (${e.code})` : ''}`;
};

/** The cards' allowed-difference policies, handed to the engine's shadow comparisons as they are declared. */
const ALLOWED_DIFFERENCES = Object.fromEntries(SWITCHABLE_CLASSES.map((c) => [c, [...CARDS[c].allowed_differences]]));

/** One trace per workload, concurrency and connection: every backend and mode replays the same one. */
export const traceFile = (dir: string, cell: Cell, connection: number): string => join(dir, `${cell.workload.spec.name}.c${cell.concurrency}.conn${connection}.trace`);

export async function runRound(cell: Cell, round: number, ctx: RoundContext): Promise<RoundResult> {
  const spec = cell.workload.spec;
  const dir = join(ctx.workDir, `${cell.id}.r${round}`);
  const db = await ctx.engine.openCell(spec, ctx.fixture, {
    backend: cell.backend, concurrency: cell.concurrency, modes: cell.modeSet.modes, faults: ctx.faults, seed: ctx.seed,
    shadowSampleRatio: ctx.shadowSampleRatio, shadowAllowedDifferences: ALLOWED_DIFFERENCES,
  }, dir);
  try {
    return await drive(cell, round, ctx, db);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function drive(cell: Cell, round: number, ctx: RoundContext, db: CellDatabase): Promise<RoundResult> {
  const spec = cell.workload.spec;
  const aggregate = new RoundAggregate();
  // Live fallback needs control modes: only the reference engine has them.
  const evaluator = db.shared === null ? null : new LiveEvaluator(cell.id, round, db.shared, ctx.triggers);
  const take = (delta: WindowDelta): void => {
    aggregate.add(delta);
    evaluator?.observe(delta);
    ctx.onWindow(cell, delta);
  };
  const failures: string[] = [];
  const barrier = new SharedArrayBuffer(8);
  const channels: MessageChannel[] = [];
  const aborts: AbortController[] = [];
  const tasks = Array.from({ length: cell.concurrency }, (_, connection) => {
    const ch = new MessageChannel();
    channels.push(ch);
    ch.port1.on('message', (m: WorkerMessage) => take(m.delta));
    const task: ConnectionTask = {
      engine: db.handle, spec, run: cell.run, warmup: cell.warmup, seed: ctx.seed, connection, connections: cell.concurrency,
      barrier, port: ch.port2, window_ms: ctx.window_ms,
      trace_out: ctx.traceOut === null ? null : traceFile(ctx.traceOut, cell, connection),
      trace_in: ctx.traceIn === null ? null : traceFile(ctx.traceIn, cell, connection),
      sample_ratio: ctx.sampleRatio,
      field_records: ctx.fieldRecords,
    };
    const abort = new AbortController();
    aborts.push(abort);
    return ctx.pool.run(task, { transferList: [ch.port2], signal: abort.signal }) as Promise<ConnectionResult>;
  });
  const settled = await settleWithDeadline(tasks, aborts, roundTimeoutMs(cell));
  // Let window messages already queued on the ports arrive before closing them.
  await new Promise((resolve) => setImmediate(resolve));
  for (const ch of channels) ch.port1.close();
  let operations = 0;
  let measured_ms = 0;
  settled.forEach((s, connection) => {
    if (s.status === 'fulfilled') {
      take(s.value.final);
      operations += s.value.operations;
      measured_ms = Math.max(measured_ms, s.value.measured_ms);
    } else {
      failures.push(describeFailure(connection, s.reason));
    }
  });
  aggregate.finish();
  const finallyFailed = [...aggregate.counters].filter(([k]) => /^op\.[a-z_]+\.error\./.test(k)).reduce((n, [, v]) => n + v, 0);
  let state_hash: string | null = null;
  let hash_skipped: string | null = null;
  if (cell.deterministic && failures.length > 0) hash_skipped = 'a connection failed';
  else if (cell.deterministic && finallyFailed > 0) hash_skipped = `${finallyFailed} operation(s) failed after all retries`;
  if (cell.deterministic && hash_skipped === null) {
    try {
      state_hash = await db.stateHash();
    } catch (err) {
      failures.push(`state hash: ${(err as Error).message}`);
    }
  }
  // The description shows the modes the round ended in: a fallback shows as `legacy`.
  return { round, aggregate, operations, measured_ms, state_hash, hash_skipped, failures, events: evaluator?.events ?? [], engine: db.describe(), reported: db.reported };
}

/** A worker that dies holding an engine lock can stall the others forever: rounds have a deadline. */
function roundTimeoutMs(cell: Cell): number {
  const planned = (cell.warmup?.duration_ms ?? 0) + (cell.run.duration_ms ?? 0);
  const countBound = cell.run.operations !== undefined || cell.warmup?.operations !== undefined;
  return countBound ? planned + 300_000 : planned + 30_000;
}

/** After a connection fails, the others get this long to finish before they are stopped. */
const GRACE_AFTER_FAILURE_MS = 5_000;

/**
 * Settles every task, aborting (piscina then terminates the thread) those
 * still running at the deadline, or a grace period after a sibling failed.
 */
async function settleWithDeadline<T>(tasks: Promise<T>[], aborts: AbortController[], timeoutMs: number): Promise<PromiseSettledResult<T>[]> {
  const stopAll = (why: string): void => {
    for (const a of aborts) if (!a.signal.aborted) a.abort(new Error(why));
  };
  const deadline = setTimeout(() => stopAll(`round timed out after ${Math.round(timeoutMs / 1000)} s (a connection may have died holding an engine lock)`), timeoutMs);
  let grace: NodeJS.Timeout | null = null;
  for (const t of tasks) {
    t.catch(() => {
      grace ??= setTimeout(() => stopAll(`stopped ${GRACE_AFTER_FAILURE_MS / 1000} s after another connection of the round failed`), GRACE_AFTER_FAILURE_MS);
    });
  }
  try {
    return await Promise.allSettled(tasks);
  } finally {
    clearTimeout(deadline);
    if (grace !== null) clearTimeout(grace);
  }
}
