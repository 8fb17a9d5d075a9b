// The typed models: one zod object per persistence domain. Each is the single
// source of truth for its domain — the TypeScript type (z.infer), the runtime
// validation of every row written or read, and the table shape the drift gate
// expects (columns are derived from the zod shape in schema.ts). Migrations are
// written by hand and frozen; `store check` proves they still match these.
//
// Changing a model means: bump `version` (major for breaking changes), add a
// migration, and update the policy matrix (harness/store/policy.json).

import { z } from 'zod';
import { METADATA_CLASSES, NEW_MODE, SWITCHABLE_CLASSES } from '../../engine/index.ts';
import { ControlModes, EngineDescription, RoundRecord, RunConfig, RunEnvironment } from '../results/record.ts';
import { EngineComparison } from '../results/summary.ts';

/** ISO-8601 UTC instants only ("...Z"): timestamps are stored as text, never with an offset. */
const utc = z.iso.datetime({ offset: false });
const json = z.unknown().refine((v) => v !== undefined, 'required');
const controlMode = z.enum(['legacy', 'shadow_compare', ...Object.values(NEW_MODE)]);
const switchable = z.enum(SWITCHABLE_CLASSES);

export interface IndexDef {
  name: string;
  columns: string[];
  unique: boolean;
}

export interface ModelDef<S extends z.ZodObject = z.ZodObject, D extends string = string> {
  /** The persistence domain (also the table name). */
  domain: D;
  model_name: string;
  /** Semantic version of the model; the policy matrix must agree on the major. */
  version: string;
  schema: S;
  primary_key: string[];
  indexes: IndexDef[];
  /** A valid row, used by the drift gate's round trip. */
  example: z.infer<S>;
}

function model<S extends z.ZodObject, const D extends string>(def: ModelDef<S, D>): ModelDef<S, D> {
  return def;
}

/**
 * A run (its run record without the cells). The JSON columns are the results
 * model's own schemas (harness/results/), so a stored run reads back as the
 * run record it came from. `nightly` and `hardware_signature` repeat what
 * config and environment say, as columns, so a nightly's history is one
 * indexed query (2.0.0, migration 0003).
 */
export const RunRow = z.strictObject({
  id: z.string().min(1),
  started_at: utc,
  ended_at: utc,
  argv: z.array(z.string()),
  config: RunConfig,
  engine: EngineDescription.nullable(),
  environment: RunEnvironment,
  schedule_note: z.string().nullable(),
  /** Counters by name (cells, failed, with_gaps, …): open so a new run total needs no migration. */
  totals: z.record(z.string(), z.int()),
  /** The nightly baseline name (config.nightly); null for a run not made by `shadowbench nightly`. */
  nightly: z.string().nullable(),
  /** environment.hardware_signature. */
  hardware_signature: z.string().min(1),
  /** The engines side by side (summary.json); null for runs stored before 0003 kept it. */
  engine_comparison: z.array(EngineComparison).nullable(),
});

export const CellRow = z.strictObject({
  id: z.string().min(1), // `${run_id}/${cell_id}`
  run_id: z.string().min(1),
  cell_id: z.string().min(1),
  variant: z.string(),
  backend: z.string(),
  workload: z.string(),
  concurrency: z.int(),
  mode_set: z.string(),
  control_modes: ControlModes,
  status: z.enum(['ok', 'failed']),
  failures: z.array(z.string()),
  gaps: z.array(z.string()),
  /** Card classes the engine declared it cannot report; null where the run record has none (older runs, rows stored before 0003). */
  not_reported: z.array(z.string()).nullable(),
  usable_for_gate: z.boolean(),
  deterministic: z.boolean(),
  correctness: z.array(z.string()),
  notes: z.array(z.string()),
  operations: z.int(),
  measured_ms: z.number(),
  throughput_ops_s: z.number(),
  errors: z.record(z.string(), z.number()),
  rounds: z.array(RoundRecord),
  histograms_file: z.string(),
});

export const HistogramRow = z.strictObject({
  id: z.string().min(1),
  run_id: z.string().min(1),
  cell_id: z.string().min(1),
  field: z.string().min(1),
  /** HdrHistogram's compressed base64 encoding (encodeIntoCompressedBase64). */
  encoding: z.literal('hdr-compressed-base64'),
  data: z.string().min(1),
  start_ms: z.int(),
  end_ms: z.int(),
});

export const TriggerEvaluationRow = z.strictObject({
  id: z.string().min(1),
  run_id: z.string().nullable(),
  trigger: z.string().min(1),
  engine_variant: z.string().min(1),
  metadata_class: z.enum(METADATA_CLASSES),
  evaluated_at: utc,
  fired: z.boolean(),
  observed: z.number().nullable(),
  threshold: z.number().nullable(),
  detail: z.record(z.string(), json),
});

/** Audit log: one row per fallback from a control mode, never updated. */
export const FallbackEventRow = z.strictObject({
  id: z.string().min(1),
  occurred_at: utc,
  engine_variant: z.string().min(1),
  metadata_class: switchable,
  from_mode: controlMode,
  to_mode: controlMode,
  reason: z.string().min(1),
  actor: z.string().min(1),
  run_id: z.string().nullable(),
});

/** Decision journal: one row per gate decision, never updated. */
export const GateDecisionRow = z.strictObject({
  id: z.string().min(1),
  decided_at: utc,
  engine_variant: z.string().min(1),
  metadata_class: switchable,
  decision: z.enum(['promote', 'hold', 'rollback']),
  from_mode: controlMode,
  to_mode: controlMode.nullable(),
  rationale: z.string().min(1),
  evidence: z.record(z.string(), json),
  decided_by: z.string().min(1),
});

/** Control state: the current mode per switchable class per engine variant. */
export const RolloutStateRow = z.strictObject({
  id: z.string().min(1), // `${engine_variant}:${metadata_class}`
  engine_variant: z.string().min(1),
  metadata_class: switchable,
  control_mode: controlMode,
  changed_by: z.string().min(1),
  changed_at: utc,
  reason: z.string(),
});

/** One accepted baseline cell: per name, hardware signature and cell (`shadowbench nightly --accept`). */
export const BaselineRow = z.strictObject({
  id: z.string().min(1), // `${name}@${hardware_signature}/${cell_id}`
  name: z.string().min(1),
  hardware_signature: z.string().min(1),
  engine_variant: z.string().min(1),
  workload: z.string().min(1),
  run_id: z.string().min(1),
  cell_id: z.string().min(1),
  created_at: utc,
  created_by: z.string().min(1),
  metrics: z.record(z.string(), z.number()),
});

/**
 * A user's word on a metric, appended and never updated: `acknowledge` a
 * change point (the level after `at_run` is the new normal), `mute` a metric
 * (shown, not judged) or `unmute` it. The latest row per metric wins.
 * `metric` is `<cell_id>:<metric>`, or a prefix ending in `*`.
 */
export const MetricAnnotationRow = z.strictObject({
  id: z.string().min(1),
  kind: z.enum(['acknowledge', 'mute', 'unmute']),
  hardware_signature: z.string().min(1),
  metric: z.string().min(1),
  at_run: z.string().min(1).nullable(),
  reason: z.string().min(1),
  created_by: z.string().min(1),
  created_at: utc,
});

export const SchemaMigrationRow = z.strictObject({
  version: z.int().positive(),
  name: z.string().min(1),
  applied_at: utc,
});

export type RunRow = z.infer<typeof RunRow>;
export type CellRow = z.infer<typeof CellRow>;
export type HistogramRow = z.infer<typeof HistogramRow>;
export type TriggerEvaluationRow = z.infer<typeof TriggerEvaluationRow>;
export type FallbackEventRow = z.infer<typeof FallbackEventRow>;
export type GateDecisionRow = z.infer<typeof GateDecisionRow>;
export type RolloutStateRow = z.infer<typeof RolloutStateRow>;
export type BaselineRow = z.infer<typeof BaselineRow>;
export type MetricAnnotationRow = z.infer<typeof MetricAnnotationRow>;
export type SchemaMigrationRow = z.infer<typeof SchemaMigrationRow>;

const T0 = '2026-01-02T03:04:05.678Z';
const LEGACY = { M1: 'legacy', M6: 'legacy', M11: 'legacy' } as const;
const LATENCY = { count: 10, p50: 100, p90: 200, p99: 300, p999: 400, max: 500, mean: 120.5 };

export const MODELS = [
  model({
    domain: 'runs',
    model_name: 'RunRow',
    version: '2.0.0',
    schema: RunRow,
    primary_key: ['id'],
    indexes: [{ name: 'runs_nightly_signature_started', columns: ['nightly', 'hardware_signature', 'started_at'], unique: false }],
    example: {
      id: 'rt-run',
      started_at: T0,
      ended_at: T0,
      argv: ['run', '--quick'],
      config: {
        seed: 1,
        rounds: 2,
        schedule: 'interleaved',
        quick: true,
        duration_ms: null,
        mode_sets: ['legacy'],
        workloads: [{ name: 'w', file: 'w.json', fixture_sha256: null }],
        backends: null,
        concurrency: [4],
        faults: { M6: { delay_ns: 10 } },
        mode_set_faults: {},
        window_ms: 500,
        trace_recorded: false,
        replay_of: null,
        nightly: 'nightly',
      },
      engine: { faults: {}, fault_injection_active: false, backend: 'memory', page_size: 4096 },
      environment: {
        git_commit: null,
        git_dirty: null,
        node_version: 'v20',
        platform: 'linux',
        arch: 'x64',
        kernel: '6',
        cpu_model: 'cpu',
        cpu_count: 2,
        total_memory_bytes: 1,
        hardware_signature: 'hw-1',
      },
      schedule_note: null,
      totals: { cells: 1, failed: 0, with_gaps: 0, correctness_failures: 0 },
      nightly: 'nightly',
      hardware_signature: 'hw-1',
      engine_comparison: [
        {
          workload: 'w',
          backend: 'memory',
          concurrency: 4,
          reference: [],
          best: null,
          comparators: [{ label: 'sqlite', throughput_ops_s: 1, p99_ns: null, status: 'ok', throughput_ratio: null, p99_ratio: null }],
        },
      ],
    },
  }),
  model({
    domain: 'cells',
    model_name: 'CellRow',
    version: '2.0.0',
    schema: CellRow,
    primary_key: ['id'],
    indexes: [{ name: 'cells_run_id', columns: ['run_id'], unique: false }],
    example: {
      id: 'rt-run/c1',
      run_id: 'rt-run',
      cell_id: 'c1',
      variant: 'v',
      backend: 'memory',
      workload: 'w',
      concurrency: 4,
      mode_set: 'legacy',
      control_modes: LEGACY,
      status: 'ok',
      failures: [],
      gaps: [],
      not_reported: ['M4'],
      usable_for_gate: true,
      deterministic: false,
      correctness: [],
      notes: ['n'],
      operations: 1000,
      measured_ms: 12.5,
      throughput_ops_s: 80000.25,
      errors: { busy: 2 },
      rounds: [{ round: 1, operations: 1000, measured_ms: 12.5, throughput_ops_s: 80000.25, latency_ns: { read: LATENCY }, state_hash: null, failures: [] }],
      histograms_file: 'histograms/c1.hlog',
    },
  }),
  model({
    domain: 'histograms',
    model_name: 'HistogramRow',
    version: '1.0.0',
    schema: HistogramRow,
    primary_key: ['id'],
    indexes: [{ name: 'histograms_run_cell', columns: ['run_id', 'cell_id'], unique: false }],
    example: {
      id: 'rt-run/c1/latency',
      run_id: 'rt-run',
      cell_id: 'c1',
      field: 'latency',
      encoding: 'hdr-compressed-base64',
      data: 'HISTFAAAAB4=',
      start_ms: 1,
      end_ms: 2,
    },
  }),
  model({
    domain: 'trigger_evaluations',
    model_name: 'TriggerEvaluationRow',
    version: '1.0.0',
    schema: TriggerEvaluationRow,
    primary_key: ['id'],
    indexes: [{ name: 'trigger_evaluations_trigger_time', columns: ['trigger', 'evaluated_at'], unique: false }],
    example: {
      id: 'te-1',
      run_id: null,
      trigger: 'p99_regression',
      engine_variant: 'v',
      metadata_class: 'M6',
      evaluated_at: T0,
      fired: true,
      observed: 1.5,
      threshold: 1.2,
      detail: { k: 'v' },
    },
  }),
  model({
    domain: 'fallback_events',
    model_name: 'FallbackEventRow',
    version: '1.0.0',
    schema: FallbackEventRow,
    primary_key: ['id'],
    indexes: [{ name: 'fallback_events_variant_class_time', columns: ['engine_variant', 'metadata_class', 'occurred_at'], unique: false }],
    example: {
      id: 'fb-1',
      occurred_at: T0,
      engine_variant: 'v',
      metadata_class: 'M1',
      from_mode: 'polling',
      to_mode: 'legacy',
      reason: 'torn read',
      actor: 'gate',
      run_id: null,
    },
  }),
  model({
    domain: 'gate_decisions',
    model_name: 'GateDecisionRow',
    version: '1.0.0',
    schema: GateDecisionRow,
    primary_key: ['id'],
    indexes: [{ name: 'gate_decisions_variant_class_time', columns: ['engine_variant', 'metadata_class', 'decided_at'], unique: false }],
    example: {
      id: 'gd-1',
      decided_at: T0,
      engine_variant: 'v',
      metadata_class: 'M11',
      decision: 'promote',
      from_mode: 'shadow_compare',
      to_mode: 'sharded',
      rationale: 'clean',
      evidence: { runs: ['r1'] },
      decided_by: 'ci',
    },
  }),
  model({
    domain: 'rollout_state',
    model_name: 'RolloutStateRow',
    version: '1.0.0',
    schema: RolloutStateRow,
    primary_key: ['id'],
    indexes: [{ name: 'rollout_state_variant_class', columns: ['engine_variant', 'metadata_class'], unique: true }],
    example: { id: 'v:M6', engine_variant: 'v', metadata_class: 'M6', control_mode: 'snapshot', changed_by: 'ops', changed_at: T0, reason: '' },
  }),
  model({
    domain: 'baselines',
    model_name: 'BaselineRow',
    version: '2.0.0',
    schema: BaselineRow,
    primary_key: ['id'],
    indexes: [{ name: 'baselines_name_signature_cell', columns: ['name', 'hardware_signature', 'cell_id'], unique: true }],
    example: {
      id: 'bl-1',
      name: 'main',
      hardware_signature: 'hw-1',
      engine_variant: 'v',
      workload: 'w',
      run_id: 'r',
      cell_id: 'c',
      created_at: T0,
      created_by: 'ci',
      metrics: { p99_ns: 1234, ops: 1e6 },
    },
  }),
  model({
    domain: 'metric_annotations',
    model_name: 'MetricAnnotationRow',
    version: '1.0.0',
    schema: MetricAnnotationRow,
    primary_key: ['id'],
    indexes: [{ name: 'metric_annotations_signature_metric', columns: ['hardware_signature', 'metric', 'created_at'], unique: false }],
    example: {
      id: 'ma-1',
      kind: 'acknowledge',
      hardware_signature: 'hw-1',
      metric: 'c1:throughput_ops_s',
      at_run: 'r1',
      reason: 'expected: new allocator',
      created_by: 'ci',
      created_at: T0,
    },
  }),
  model({
    domain: 'schema_migrations',
    model_name: 'SchemaMigrationRow',
    version: '1.0.0',
    schema: SchemaMigrationRow,
    primary_key: ['version'],
    indexes: [],
    example: { version: 999999, name: 'round-trip probe', applied_at: T0 },
  }),
] as const satisfies readonly ModelDef[];

export type DomainName = (typeof MODELS)[number]['domain'];

export function modelFor(domain: string, models: readonly ModelDef[] = MODELS): ModelDef | undefined {
  return models.find((m) => m.domain === domain);
}
