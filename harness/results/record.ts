// The run record (run.json): what ran, where, and how each cell ended. One
// zod schema is the definition: the TypeScript types every writer and reader
// uses (z.infer), and the check a run.json read from disk must pass.
//
// Layers, so a reader asks for no more than it has: a cell's figures
// (CellFigures, what the results store keeps of a cell) and its full record
// (CellRecord: plus its faults, audit log and counterexamples); a run's
// figures (RunFigures, what the store keeps of a run) and its full record
// (RunRecord). Fields added over time are optional, so older run folders
// still read.

import { z } from 'zod';
import { METADATA_CLASSES, NEW_MODE, SWITCHABLE_CLASSES } from '../../engine/index.ts';
import { HistogramSummary } from './summary.ts';

export const RUN_FORMAT = 'shadowbench-run';
export const RUN_VERSION = 1;

const count = z.int().nonnegative();
const strings = z.array(z.string());
const metadataClass = z.enum(METADATA_CLASSES);

export const ControlMode = z.enum(['legacy', 'shadow_compare', ...Object.values(NEW_MODE)]);
export const ControlModes = z.record(z.enum(SWITCHABLE_CLASSES), ControlMode);

export const ClassFaults = z.object({
  delay_ns: z.number().optional(),
  stale_publish: z.number().optional(),
  misroute: z.number().optional(),
  torn_read: z.number().optional(),
});
/** Faults by where they are injected: a metadata class's path, or every transaction (`TXN`). */
export const FaultConfig = z.partialRecord(z.enum([...METADATA_CLASSES, 'TXN']), ClassFaults);

export const RunConfig = z.object({
  seed: z.int(),
  rounds: z.int().positive(),
  /** Unmeasured rounds run before the measured ones (absent in older runs: none). */
  warmup_rounds: count.optional(),
  schedule: z.enum(['interleaved', 'concurrent']),
  quick: z.boolean(),
  duration_ms: z.number().nullable(),
  /** Engine variants run (absent in runs from before variants existed: reference only). */
  variants: strings.optional(),
  mode_sets: strings,
  workloads: z.array(z.object({ name: z.string(), file: z.string(), fixture_sha256: z.string().nullable() })),
  backends: strings.nullable(),
  concurrency: z.array(z.int()).nullable(),
  /** Run-wide faults. */
  faults: FaultConfig,
  /** Faults scoped to one mode set (`--inject …@SET`), by set label (absent in runs from before scoped faults: none). */
  mode_set_faults: z.record(z.string(), FaultConfig).optional(),
  /** --target-mde, when the run added rounds until its comparisons could see that change (absent in older runs). */
  target_mde: z.number().nullable().optional(),
  /** --max-time: the budget of --target-mde, or without it the time `rounds` were trimmed to hold. */
  max_time_ms: z.number().nullable().optional(),
  /** --min-rounds of a budgeted run (--max-time without --target-mde): each group ran between it and `rounds`. */
  min_rounds: z.number().nullable().optional(),
  /** The slice length operation counts were calibrated to (runs before slices: the window length). */
  window_ms: z.number(),
  trace_recorded: z.boolean(),
  replay_of: z.string().nullable(),
  /** The yardstick timed beside the rounds (runtime/yardstick.ts); runs compare at one machine speed only when theirs match (absent in older runs). */
  yardstick: z.string().optional(),
  /** The nightly baseline name, for runs made by `shadowbench nightly`. */
  nightly: z.string().nullable().optional(),
});

/** Where a run happened. The hardware signature decides comparability. */
export const RunEnvironment = z.object({
  git_commit: z.string().nullable(),
  git_dirty: z.boolean().nullable(),
  node_version: z.string(),
  platform: z.string(),
  arch: z.string(),
  kernel: z.string(),
  cpu_model: z.string(),
  cpu_count: z.int(),
  total_memory_bytes: z.number(),
  /** SHA-256 (first 16 hex) over CPU model, count, memory, platform and arch. */
  hardware_signature: z.string().min(1),
});

/**
 * What the first cell's engine said about itself. Open beyond the fields
 * readers use: each engine describes itself in its own terms.
 */
export const EngineDescription = z.looseObject({
  faults: FaultConfig,
  fault_injection_active: z.boolean(),
});

/** One measured round of a cell. */
export const RoundRecord = z.object({
  round: z.int(),
  operations: count,
  measured_ms: z.number(),
  throughput_ops_s: z.number(),
  /** Per operation kind: latency (from the intended start) of successful operations. */
  latency_ns: z.record(z.string(), HistogramSummary),
  /** On-CPU time per operation (ns) and the share of the connections' wall time spent waiting for a CPU; null where unavailable (absent in runs before slices). */
  cpu_ns_per_op: z.number().nullable().optional(),
  runq_share: z.number().nullable().optional(),
  /** This round's run-queue wait share is far above its siblings' (the machine, not the code). */
  contended: z.boolean().optional(),
  /**
   * The round's chunks, in order (interleaved rounds): each one's wall time (ms) and median latency of the busiest
   * kind (ns, 0 when it had none). Chunk j of one arm ran a few ms from chunk j of every other: comparisons within a
   * run pair them (absent in older runs and replays).
   */
  chunks: z.object({ kind: z.string(), wall_ms: z.array(z.number()), p50_ns: z.array(z.number()) }).optional(),
  /**
   * The machine's speed beside the round: the median time of the yardstick's unit of work (ns), timed between the
   * chunks. Runs are compared at one machine speed by it (null: not measured; absent in older runs).
   */
  yardstick_ns: z.number().positive().nullable().optional(),
  state_hash: z.string().nullable(),
  failures: strings,
});

/** How a cell's group ran: the bound, operations per slice, every round's order of mode sets (arms). */
export const GroupPlan = z.object({
  group: z.string(),
  arms: strings,
  bound: z.literal('operations'),
  ops_per_slice: count,
  /** The slice length the count was calibrated to; null when the spec fixes the count. */
  slice_target_ms: z.number().nullable(),
  /** The rate of each arm calibrated (the first; every arm in older runs and replays), in its calibration slice (ops/s per connection, the slowest connection). */
  calibration: z.array(z.object({ arm: z.string(), ops_per_s: z.number() })),
  /** How ops_per_slice was reached from the calibration (absent in older runs): re-measured on the warm-up round. */
  sizing: z.string().optional(),
  /** Chunks per arm of each interleaved round: the arms take turns chunk by chunk (absent in older runs and replays: one arm's slice after another). */
  chunks: z.int().positive().optional(),
  warmup_rounds: count,
  rounds: z.array(z.object({ round: z.int(), order: strings })),
});

/** A trigger that fired, its evidence and the fallback applied: one entry of a cell's audit log. */
export const FallbackEventRecord = z.object({
  time: z.string(),
  cell: z.string(),
  round: z.int(),
  connection: z.int(),
  window: z.int(),
  metadata_class: metadataClass,
  trigger: z.string(),
  wording: z.string(),
  profile: z.discriminatedUnion('kind', [z.object({ kind: z.literal('latch') }), z.object({ kind: z.literal('k_of_n'), k: z.int(), n: z.int() })]),
  observation: z.object({ fired: z.boolean(), value: z.number(), threshold: z.number(), detail: z.string() }),
  /** force_legacy: the class was switched; already_legacy: nothing to switch; alert: a keep-local class. */
  action: z.enum(['force_legacy', 'already_legacy', 'alert']),
  fallback_action: z.string(),
  /** The window's counters of the class. */
  evidence: z.record(z.string(), z.number()),
});

/** A cell's figures: what comparisons, gates and the results store use. */
export const CellFigures = z.object({
  id: z.string().min(1),
  variant: z.string(),
  backend: z.string(),
  workload: z.string(),
  concurrency: z.int().positive(),
  mode_set: z.string(),
  control_modes: ControlModes,
  status: z.enum(['ok', 'failed']),
  failures: strings,
  gaps: strings,
  /** Card classes (and their fields) the workload exercises but this engine declared it cannot report (absent in older runs). */
  not_reported: strings.optional(),
  usable_for_gate: z.boolean(),
  deterministic: z.boolean(),
  correctness: strings,
  notes: strings,
  operations: count,
  measured_ms: z.number(),
  throughput_ops_s: z.number(),
  /** `busy`, `write_conflict`, …: every failed attempt; `final.<code>`: operations that failed after all retries. */
  errors: z.record(z.string(), z.number()),
  rounds: z.array(RoundRecord),
  /** The cell's histograms in HdrHistogram's log format, relative to the run folder. */
  histograms_file: z.string().min(1),
});

export const CellRecord = CellFigures.extend({
  /** The faults this cell ran with (run-wide and its mode set's own; absent in runs from before scoped faults: the run's). */
  faults: FaultConfig.optional(),
  /** The audit log: every trigger that fired, its evidence and the fallback applied. */
  fallback_events: z.array(FallbackEventRecord),
  /** Counterexample bundles in the run folder, one per fired trigger. */
  counterexamples: strings,
  /** How the cell's group ran (absent in runs before slices). */
  schedule: GroupPlan.nullable().optional(),
});

const RunHeader = z.object({
  run_id: z.string().min(1),
  started_at: z.iso.datetime(),
  ended_at: z.iso.datetime(),
  argv: strings,
  config: RunConfig,
  /** The first cell's engine (the reference engine's when it ran). */
  engine: EngineDescription.nullable(),
  environment: RunEnvironment,
  /** Present when mode sets ran at the same time: their figures share the machine. */
  schedule_note: z.string().nullable(),
});

/** A run's figures: what comparisons across runs (compare, nightly) use, and what the results store keeps. */
export const RunFigures = RunHeader.extend({ cells: z.array(CellFigures) });

export const RunTotals = z.object({ cells: count, failed: count, with_gaps: count, correctness_failures: count, fallbacks: count });

export const RunRecord = RunHeader.extend({
  format: z.literal(RUN_FORMAT),
  version: z.literal(RUN_VERSION),
  cells: z.array(CellRecord),
  totals: RunTotals,
});

export type ControlModes = z.infer<typeof ControlModes>;
export type FaultConfig = z.infer<typeof FaultConfig>;
export type RunConfig = z.infer<typeof RunConfig>;
export type RunEnvironment = z.infer<typeof RunEnvironment>;
export type EngineDescription = z.infer<typeof EngineDescription>;
export type RoundRecord = z.infer<typeof RoundRecord>;
export type GroupPlan = z.infer<typeof GroupPlan>;
export type FallbackEventRecord = z.infer<typeof FallbackEventRecord>;
export type CellFigures = z.infer<typeof CellFigures>;
export type CellRecord = z.infer<typeof CellRecord>;
export type RunFigures = z.infer<typeof RunFigures>;
export type RunTotals = z.infer<typeof RunTotals>;
export type RunRecord = z.infer<typeof RunRecord>;
