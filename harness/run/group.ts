// One group (the cells that differ only in their mode set: the arms) run as
// paired slices. Every arm's database is opened and warmed before any clock
// starts; each connection is one pool thread that stays connected to every
// arm; a round runs one slice per arm, in the round's balanced order, each
// slice the same number of operations of the same stream. The two halves of
// a pair are therefore measured milliseconds apart on the same warmed
// threads, doing identical work from identical states, and the main thread
// merges, evaluates triggers and reports only between slices.

import { join } from 'node:path';
import type { Piscina } from 'piscina';
import type { FaultConfig, MetadataClass } from '../../engine/index.ts';
import type { CellDatabase, CellEngineDescription, EngineAdapter, Fixture } from '../engines/adapter.ts';
import { LiveEvaluator, type FallbackEvent, type TriggerConfig } from '../cards/evaluator.ts';
import type { Cell, Group } from '../plan/matrix.ts';
import type { RoundAggregate } from '../record/aggregate.ts';
import type { WindowDelta } from '../record/recorder.ts';
import type { SliceReport } from '../pool/task.ts';
import { busiestKindOf, busiestShare, mixAt } from '../spec/mix.ts';
import { RoundBook, type RoundChunks, type RoundSched } from './round-book.ts';
import { chunksOf, MIN_DECIDING_OPS, sliceOps } from './sizing.ts';
import { collectGarbage } from '../runtime/gc.ts';
import type { GroupPlan } from '../results/record.ts';
import { ArmDatabases } from './arms.ts';
import { armOrder } from './schedule.ts';
import { SliceControl, type SliceCommand } from './slices.ts';
import { parseKey } from '../record/keys.ts';
import type { EngineBuild } from '../engines/build.ts';
import { hasTwin, twinCell, twinReading } from './twin.ts';

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
  /** Whether `more` reads the round just measured (then it is folded before, not during the next warm-up). */
  moreReadsRound?: boolean;
  /** The frozen build a twin arm runs in each reference group (run/twin.ts; other groups then carry no reading), or null: the yardstick's unit gives the machine's speed. */
  twin: EngineBuild | null;
}

export interface RoundResult {
  round: number;
  aggregate: RoundAggregate;
  operations: number;
  /** Wall time of the slice (the slowest connection). */
  measured_ms: number;
  /** On-CPU and run-queue time of the slice's connections; null where the OS does not report them. */
  sched: RoundSched | null;
  /** The arm's chunks, to pair with the other arms' chunk by chunk (null: the round was not interleaved, a replay). */
  chunks: RoundChunks | null;
  /** The machine's speed beside the round: the twin's median latency, else the yardstick's median unit time (ns; null: not interleaved). */
  yardstick_ns: number | null;
  failures: string[];
  /** Triggers that fired during the round, with the fallback applied. */
  events: FallbackEvent[];
  engine: CellEngineDescription;
  /** The card classes this engine reports (the others are not gaps). */
  reported: readonly MetadataClass[];
}

export interface GroupOutcome {
  plan: GroupPlan;
  /** Failures that ended the group early. */
  failures: string[];
  /** Each arm's final state (deterministic cells), when the group completed. */
  hashes: (ArmHash | undefined)[];
}

/** One trace per workload, concurrency and connection: every backend and mode replays the same one. */
export const traceFile = (dir: string, cell: Cell, connection: number): string =>
  join(dir, `${cell.workload.spec.name}.c${cell.concurrency}.conn${connection}.trace`);

/**
 * After a reopen, each arm runs this share of a slice unmeasured first, so the
 * measured slice starts on warm caches (a copied database's pages are already
 * touched; an opened one's are touched here).
 */
const WARM_SHARE = 0.1;

export async function runGroup(group: Group, ctx: GroupContext): Promise<GroupOutcome> {
  // The twin, last of the arms: scheduled, opened and measured as they are; no fault of the run's, no result of its own.
  const twin = ctx.twin !== null && hasTwin(group, true) ? twinCell(group, ctx.twin) : null;
  const cells = twin === null ? group.cells : [...group.cells, twin];
  const faultsOf = ctx.faultsOf;
  if (twin !== null) ctx = { ...ctx, faultsOf: (c) => (c === twin ? {} : faultsOf(c)) };
  const plan: GroupPlan = {
    group: group.key,
    arms: cells.map((c) => c.modeSet.label),
    bound: 'operations',
    ops_per_slice: 0,
    slice_target_ms: null,
    calibration: [],
    warmup_rounds: ctx.warmupRounds,
    rounds: [],
  };
  const arms = new ArmDatabases(cells, ctx);
  const failures: string[] = [];
  const hashes: (ArmHash | undefined)[] = [];
  try {
    await arms.open();
    await conduct(cells, twin === null ? null : cells.length - 1, arms, ctx, plan, failures, hashes);
  } catch (err) {
    if (failures.length === 0) failures.push(`opening the databases: ${(err as Error).message}`);
  } finally {
    await arms.closeAll();
  }
  return { plan, failures, hashes };
}

async function conduct(
  cells: Cell[],
  /** The twin's arm, or null. */
  twin: number | null,
  arms: ArmDatabases,
  ctx: GroupContext,
  plan: GroupPlan,
  failures: string[],
  hashes: (ArmHash | undefined)[],
): Promise<void> {
  const first = cells[0]!;
  const n = first.concurrency;
  const control = new SliceControl(
    ctx.pool,
    n,
    (connection, ctl, port) => ({
      arms: arms.dbs.map((d) => d.handle),
      spec: first.workload.spec,
      seed: ctx.seed,
      connection,
      connections: n,
      control: ctl,
      port,
      trace_out: ctx.traceOut === null ? null : traceFile(ctx.traceOut, first, connection),
      trace_in: ctx.traceIn === null ? null : traceFile(ctx.traceIn, first, connection),
      sample_ratio: ctx.sampleRatio,
      field_records: ctx.fieldRecords,
      read_yardstick: ctx.twin === null,
    }),
    ctx.sliceMs,
    cells.length,
  );
  // A replay's slices are unbounded: each ends at the recorded slice's end mark.
  const replay = ctx.traceIn !== null;
  const slice = (c: SliceCommand): Promise<SliceReport[]> => control.run(replay ? { ...c, ops: 0, durationMs: 0 } : c);
  /**
   * Fresh databases for every arm (same state, new place in memory); the old ones are closed once nobody uses them.
   * Both generations overlap for a moment (~190 MiB more peak RSS in `npm run bench`): letting go of the old ones
   * first raised hot-page-contention memory c1's A/A per-pair sd from 0.027 to 0.10-0.13 (twice, A/B).
   */
  const reopen = async (): Promise<void> => {
    const previous = await arms.open();
    await control.open(
      arms.dbs.map((d) => d.handle),
      replay,
    );
    await ArmDatabases.close(previous);
    arms.removeGeneration(arms.current - 1);
    arms.dbs.forEach((d, i) => evaluators[i]?.rebind(d.shared!));
    failedOps.fill(0);
  };

  const evaluators = arms.dbs.map((d, i) => (d.shared === null || i === twin ? null : new LiveEvaluator(cells[i]!.id, 0, d.shared, ctx.triggers)));
  const failedOps = new Array<number>(cells.length).fill(0);
  let round = 0;
  let book: RoundBook | null = null;
  /**
   * The last measured round's fold into its cells (histogram merges, spans, metrics, progress), deferred: it runs
   * while the next round warms up, when the main thread has nothing else to do, instead of between the rounds.
   * Fallback triggers are not deferred: they are evaluated as soon as the round's slices end.
   */
  let pending: (() => void) | null = null;
  const fold = (): void => {
    const f = pending;
    pending = null;
    f?.();
  };
  /** Books the round's arms for folding; a failed round keeps what its arms measured, marked with the failure. */
  const emit = (failure: string | null, order: readonly number[] = [], reports: readonly SliceReport[] = []): void => {
    fold();
    const b = book;
    book = null;
    if (b === null) return;
    const r = round;
    const events = evaluators.map((ev) => ev?.events.filter((e) => e.round === r) ?? []);
    const engines = arms.dbs.map((d) => ({ engine: d.describe(), reported: d.reported }));
    pending = () => {
      for (const arm of order) {
        for (const rep of reports) {
          if (rep.arm !== arm) continue;
          b.add(arm, rep);
          if (rep.delta !== null && arm !== twin) ctx.onWindow(cells[arm]!, rep.delta);
        }
        b.ran[arm] = true;
      }
      let yardstick_ns = b.yardstick_ns;
      if (twin !== null) {
        yardstick_ns = b.ran[twin] ? twinReading(b.aggregates[twin]!.finish(), b.kind) : null;
        b.aggregates[twin]!.destroy();
      }
      for (let i = 0; i < cells.length; i++) {
        if (i === twin) continue;
        if (!b.ran[i]) {
          b.aggregates[i]!.destroy();
          continue;
        }
        const t = b.totals[i]!;
        ctx.onRound(cells[i]!, {
          round: r,
          aggregate: b.aggregates[i]!.finish(),
          operations: t.operations,
          measured_ms: t.measured_ms,
          sched: t.sched,
          chunks: b.chunksOf(i),
          yardstick_ns,
          failures: failure === null ? [] : [failure],
          events: events[i]!,
          ...engines[i]!,
        });
      }
    };
  };
  try {
    await control.ready();
    // Calibration: one unmeasured slice of the first arm, bounded as the spec's warm-up (or the slice length), to size
    // the warm-up round, whose slices of every arm, warm and full length, then size the measured ones. (A slice of every
    // arm here cost ~0.35 s a group and changed nothing the warm-up round does not.) A replay calibrates every arm:
    // each reads the recorded calibration slice from its trace.
    const warm = first.warmup;
    const rates: number[] = [];
    for (const arm of replay ? armOrder(cells.length, 1, ctx.seed, plan.group)[0]! : [0]) {
      const reports = await slice({
        arm,
        ops: warm?.operations ?? 0,
        durationMs: warm?.operations !== undefined ? 0 : (warm?.duration_ms ?? ctx.sliceMs),
        measured: false,
        round: 0,
      });
      rates[arm] = Math.min(...reports.map((r) => (r.wall_ms > 0 ? (r.operations / r.wall_ms) * 1000 : Infinity)));
    }
    plan.calibration = cells.flatMap((c, i) => (rates[i] === undefined ? [] : [{ arm: c.modeSet.label, ops_per_s: Math.round(rates[i]!) }]));
    const mix = mixAt(first.workload.spec.mix, n);
    const share = busiestShare(mix);
    // An open-loop spec sets its own rate: its slices stay the asked length (1,000 operations at 50/s would be 20 s).
    const openLoop = first.workload.spec.load.mode === 'open';
    const floorOps = openLoop ? 0 : MIN_DECIDING_OPS;
    const slowest = Math.min(...rates.filter((r) => Number.isFinite(r)));
    if (ctx.opsPerSlice !== undefined) plan.ops_per_slice = ctx.opsPerSlice;
    else if (first.run.operations !== undefined) plan.ops_per_slice = first.run.operations;
    else {
      plan.slice_target_ms = ctx.sliceMs;
      plan.ops_per_slice = sliceOps(Number.isFinite(slowest) ? slowest : 1000, ctx.sliceMs, share, n, floorOps).ops;
    }
    /**
     * Cuts each arm's slice into chunks of about CHUNK_MS, for a slice expected to last `wallMs`. An open-loop
     * slice stays whole: its schedule of intended starts, and the lateness it accumulates, run through the slice.
     */
    const cut = (wallMs: number): void => {
      if (!replay) plan.chunks = openLoop ? 1 : chunksOf(plan.ops_per_slice, wallMs, share);
    };
    cut(Number.isFinite(slowest) ? (plan.ops_per_slice / slowest) * 1000 : ctx.sliceMs);
    let warmOps = Math.max(1, Math.round(plan.ops_per_slice * WARM_SHARE));
    /** The slowest arm's wall time in each warm-up round's slices (ms). */
    let warmWall = 0;
    /** A round's slices, `ops` each: every arm interleaved in `chunks` per slice, or, replaying, one arm after another. */
    const playRound = async (order: number[], ops: number, chunks: number, measured: boolean, measuredRound: number): Promise<SliceReport[]> => {
      if (!replay) return control.round({ order, ops, chunks, measured, round: measuredRound });
      const reports: SliceReport[] = [];
      for (const arm of order) reports.push(...(await slice({ arm, ops, durationMs: 0, measured, round: measuredRound })));
      return reports;
    };
    /**
     * Every round: fresh databases, each arm warmed in the round's order (one unmeasured round of whole slices),
     * then the arms' slices. While the arms warm up, this thread folds the last round and collects the previous
     * databases' garbage (~50 and ~35 ms a round, 13 s and 10 s of a nightly), not between the measured slices.
     */
    const play = async (order: number[], measuredRound: number): Promise<SliceReport[]> => {
      await reopen();
      const warming = playRound(order, warmOps, 1, false, measuredRound);
      fold();
      collectGarbage();
      await warming;
      const reports = await playRound(order, plan.ops_per_slice, plan.chunks ?? 1, measuredRound > 0, measuredRound);
      if (measuredRound === 0) warmWall = Math.max(warmWall, ...reports.map((r) => r.wall_ms));
      for (const r of reports) {
        if (r.delta === null) continue;
        failedOps[r.arm] = failedOps[r.arm]! + failedIn(r.delta);
        const ev = evaluators[r.arm] ?? null;
        if (ev === null) continue;
        ev.round = measuredRound;
        ev.observe(r.delta);
      }
      return reports;
    };
    const orders = (rounds: number): number[][] => armOrder(cells.length, ctx.warmupRounds + rounds, ctx.seed, plan.group);
    for (const order of orders(0)) await play(order, 0);
    if (plan.slice_target_ms !== null && warmWall > 0 && !replay) {
      // The calibration slice ran on cold databases and threads (slices of hot-page file c4 came out at 23 ms of 100):
      // the warm-up round's slices, warm and full length, size the measured ones.
      const warmRate = (plan.ops_per_slice / warmWall) * 1000;
      const sized = sliceOps(warmRate, ctx.sliceMs, share, n, floorOps);
      plan.ops_per_slice = sized.ops;
      cut((sized.ops / warmRate) * 1000);
      warmOps = Math.max(1, Math.round(plan.ops_per_slice * WARM_SHARE));
      plan.sizing = sized.floored
        ? `raised to ${MIN_DECIDING_OPS} operations of the busiest kind per slice (${sized.ops} per connection)`
        : `${ctx.sliceMs} ms at the warm-up round's rate`;
    }
    for (round = 1; ; round++) {
      const order = orders(round)[ctx.warmupRounds + round - 1]!;
      plan.rounds.push({ round, order: order.map((a) => plan.arms[a]!) });
      book = new RoundBook(cells.length, busiestKindOf(mix));
      emit(null, order, await play(order, round));
      // Past the asked rounds, the target's decision reads this round: it is folded now.
      if (round >= ctx.rounds && ctx.moreReadsRound === true) fold();
      if (round >= ctx.rounds && !(ctx.more?.(round) ?? false)) break;
    }
    fold();
    // Every arm ran the same operations from the same state: deterministic cells must end in the same state.
    for (let i = 0; i < cells.length; i++) if (i !== twin) hashes[i] = await stateHashOf(cells[i]!, arms.dbs[i]!, failedOps[i]!);
  } catch (err) {
    const failure = `${round === 0 ? 'calibration' : `round ${round}`}: ${(err as Error).message}`;
    failures.push(failure);
    control.stopAll('the group stopped after a failure');
    emit(failure);
    fold();
  } finally {
    const settled = await control.stop();
    settled.forEach((s, connection) => {
      if (s.status === 'rejected' && failures.length === 0) failures.push(`connection ${connection}: ${describe(s.reason)}`);
    });
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
  for (const [k, v] of Object.entries(delta.counters)) if (parseKey(k).kind === 'op_error') n += v;
  return n;
}

function describe(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown };
  return `${typeof e.message === 'string' ? e.message : String(err)}${typeof e.code === 'string' ? ` (${e.code})` : ''}`;
}
