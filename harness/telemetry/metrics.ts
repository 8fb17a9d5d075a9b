// Prometheus metrics of a run, on the main thread, fed from the merged window
// deltas as they arrive (the runner's onWindow) and from finished rounds
// (onRound). Names follow Prometheus conventions (base units, `_total` for
// counters, `_seconds` for durations); label names and values are the card
// fields' names and values verbatim (engine/fields.ts).
//
// Label sets are bounded by construction: cell labels come from the planned
// matrix (run, variant, backend, workload, concurrency, mode_set), class labels
// from the fixed card vocabulary (metadata_class, operation, control_mode,
// shadow_verdict, …), error codes from EngineErrorCode and shard ids from the
// registry's shard count. Nothing per-key, per-session or per-trace is a label.
//
// `control_mode` on class metrics is the mode the cell configured for that
// class (modeName(class, modeSet.modes[class])); keep-local classes, which have
// no modes, carry `keep_local`. The mode each record actually ran in (which
// differs after a fallback) is counted by shadowbench_control_mode_records_total
// as `record_control_mode`.

import { Counter, Gauge, Registry } from 'prom-client';
import { isSwitchable, modeName, SWITCHABLE_CLASSES, type FieldRecord, type MetadataClass, type SwitchableClass } from '../../engine/index.ts';
import type { Cell } from '../plan/matrix.ts';
import { FLAG_FIELDS, LATENCY_FIELDS, VALUE_FIELDS } from '../record/fields.ts';
import { parseKey } from '../record/keys.ts';
import type { WindowDelta } from '../record/recorder.ts';
import type { SparseCounts } from '../record/bucket-counts.ts';
import { COUNT_BUCKETS, HdrHistogramMetric, SECONDS_BUCKETS } from './hdr-histogram-metric.ts';

export const CELL_LABELS = ['run', 'variant', 'backend', 'workload', 'concurrency', 'mode_set'] as const;
const CLASS_LABELS = [...CELL_LABELS, 'metadata_class', 'control_mode'] as const;

type Labels = Record<string, string>;

/** Latency-like card fields (ns) → their metric name in seconds. */
export const LATENCY_METRIC: Record<string, string> = {
  wait_ns: 'shadowbench_wait_seconds',
  lock_wait_ns: 'shadowbench_lock_wait_seconds',
  alloc_ns: 'shadowbench_alloc_seconds',
  refresh_ns: 'shadowbench_refresh_seconds',
  reset_ns: 'shadowbench_reset_seconds',
};

/** Count-like card fields → the histogram of their per-record values. */
export const VALUE_METRIC = (field: string): string => `shadowbench_record_${field}`;

/** Field tables list names or { field } entries. */
const fieldNames = (xs: readonly (string | { field: string })[] | undefined): string[] => (xs ?? []).map((x) => (typeof x === 'string' ? x : x.field));

/** What metrics need of a fired trigger (harness/cards/evaluator.ts FallbackEvent). */
export interface TriggerEventLike {
  metadata_class: MetadataClass;
  trigger: string;
  action: string;
}

export interface RunMetricsOptions {
  run: string;
  /** Defaults to a fresh registry (never prom-client's global one). */
  registry?: Registry;
}

const CLASS_EXTRA = ['metadata_class', 'control_mode'] as const;

/** The run's counters, by what they count (each a prom-client Counter over the cell labels and its own). */
function makeCounters(r: Registry[]) {
  const counter = (name: string, help: string, extra: readonly string[] = []): Counter<string> =>
    new Counter({ name, help, labelNames: [...CELL_LABELS, ...extra], registers: r });
  const cls = CLASS_EXTRA;
  return {
    operations: counter('shadowbench_operations_total', 'Driver operations that completed successfully.', ['op_kind']),
    operationErrors: counter('shadowbench_operation_errors_total', 'Driver operations that failed after all retries, by the last error code.', [
      'op_kind',
      'error',
    ]),
    retries: counter('shadowbench_operation_retries_total', 'Retried attempts of driver operations.', ['op_kind']),
    attemptErrors: counter('shadowbench_attempt_errors_total', 'Failed attempts (retried or not), by engine error code.', ['error']),
    busy: counter('shadowbench_busy_total', 'Attempts that failed with busy (a lock not had within the busy timeout).'),
    conflicts: counter('shadowbench_conflicts_total', 'Attempts that failed with write_conflict.'),
    lateStarts: counter('shadowbench_late_starts_total', 'Operations that started later than scheduled (open loop).'),
    records: counter('shadowbench_field_records_total', 'Field records emitted by the engine, by card operation.', [...cls, 'operation']),
    verdicts: counter('shadowbench_shadow_verdicts_total', 'Field records by shadow_verdict.', [...cls, 'shadow_verdict']),
    modeRecords: counter(
      'shadowbench_control_mode_records_total',
      'Field records by the control_mode they ran in (record_control_mode) against the configured one (control_mode).',
      [...cls, 'record_control_mode'],
    ),
    flags: counter('shadowbench_field_flags_total', 'Boolean card fields of field records, by field and value.', [...cls, 'field', 'value']),
    sessionNotFound: counter('shadowbench_session_not_found_total', 'M11 lookups that did not find the session on the shard it routes to.', [...cls]),
    torn: counter('shadowbench_torn_reads_total', 'M1 seqlock reads that returned fields of two publications.', [...cls]),
    shardSessions: counter('shadowbench_shard_sessions_total', 'M11: sessions begun per shard_id (the registry shard a session routes to).', [
      ...cls,
      'shard_id',
    ]),
    refreshReasons: counter('shadowbench_refresh_reasons_total', 'M9 field records by refresh_reason.', [...cls, 'refresh_reason']),
    gaps: counter('shadowbench_field_gaps_total', 'Required card fields missing from a (class, operation) first record.', [...cls, 'field']),
    fallbacks: counter(
      'shadowbench_fallbacks_total',
      'Fallbacks: a class forced from its configured mode back to legacy while the run went on (counted when its round ends).',
      [...cls],
    ),
    triggerEvents: counter(
      'shadowbench_trigger_events_total',
      'Fired fallback triggers, by trigger and the action taken (force_legacy, already_legacy, alert).',
      [...cls, 'trigger', 'action'],
    ),
    windows: counter('shadowbench_windows_total', 'Window deltas received from connections.'),
    rounds: counter('shadowbench_rounds_total', 'Rounds finished, by outcome.', ['outcome']),
  };
}

/** The run's gauges. */
function makeGauges(r: Registry[]) {
  const gauge = (name: string, help: string, extra: readonly string[] = []): Gauge<string> =>
    new Gauge({ name, help, labelNames: [...CELL_LABELS, ...extra], registers: r });
  const cls = CLASS_EXTRA;
  return {
    info: new Gauge({ name: 'shadowbench_run_info', help: 'Constant 1 per planned cell of the run.', labelNames: [...CELL_LABELS], registers: r }),
    snapshotAge: gauge(
      'shadowbench_snapshot_age_commits',
      'M6: largest snapshot_age_commits (commits a read snapshot is behind the latest publication) in the latest window, max over connections.',
      cls,
    ),
    activeSessions: gauge('shadowbench_active_sessions_in_shard', 'M11: largest active_sessions_in_shard in the latest window, max over connections.', cls),
    snapshotGeneration: gauge('shadowbench_snapshot_generation', 'M6: highest snapshot_generation among sampled field records.', cls),
    visibleCommitSeq: gauge('shadowbench_visible_commit_seq', 'Highest visible_commit_seq among sampled field records.', cls),
    shardSessions: gauge('shadowbench_shard_active_sessions', 'M11: active_sessions_in_shard of the latest sampled record per shard.', [...cls, 'shard_id']),
    shardLockWait: gauge('shadowbench_shard_lock_wait_seconds', 'M11: lock_wait_ns (in s) of the latest sampled record per shard.', [...cls, 'shard_id']),
    throughput: gauge('shadowbench_round_throughput_ops_per_second', 'Operations per second of the latest finished round.'),
    activeConnections: gauge('shadowbench_connections', 'Connections (worker threads) of the cell.'),
  };
}

type Counters = ReturnType<typeof makeCounters>;
type Gauges = ReturnType<typeof makeGauges>;

export class RunMetrics {
  readonly registry: Registry;
  readonly run: string;
  private readonly hists = new Map<string, HdrHistogramMetric>();
  private readonly cellLabels = new Map<string, Labels>();
  private readonly declared = new Set<string>();
  private readonly counters: Counters;
  private readonly gauges: Gauges;
  /** Latest window max per (cell, gauge, connection), so a gauge is the max over connections. */
  private readonly latest = new Map<string, Map<number, number>>();
  windows = 0;

  constructor(o: RunMetricsOptions) {
    this.run = o.run;
    this.registry = o.registry ?? new Registry();
    const r = [this.registry];
    this.counters = makeCounters(r);
    this.gauges = makeGauges(r);
    const cls = ['metadata_class', 'control_mode'] as const;
    const hist = (name: string, help: string, extra: readonly string[], buckets: readonly number[], divisor: number): void => {
      this.hists.set(name, new HdrHistogramMetric({ name, help, labelNames: [...CELL_LABELS, ...extra], buckets, divisor, registry: this.registry }));
    };
    hist(
      'shadowbench_operation_latency_seconds',
      'Latency of successful driver operations from their intended start (HDR-exact counts).',
      ['op_kind'],
      SECONDS_BUCKETS,
      1e9,
    );
    hist('shadowbench_operation_service_seconds', 'Service time of successful driver operations (from their actual start).', ['op_kind'], SECONDS_BUCKETS, 1e9);
    hist(
      'shadowbench_field_operation_duration_seconds',
      'Duration of card operations (field record end_ns - start_ns).',
      [...cls, 'operation'],
      SECONDS_BUCKETS,
      1e9,
    );
    const fieldHelp: Record<string, string> = {
      wait_ns: 'M1: wait_ns of wait operations.',
      lock_wait_ns: 'M11: lock_wait_ns of registry operations.',
      alloc_ns: 'M6: alloc_ns of snapshot publications.',
      refresh_ns: 'M7: refresh_ns of frame-state refreshes.',
      reset_ns: 'M10: reset_ns of cached VDBE reuse.',
    };
    for (const [field, name] of Object.entries(LATENCY_METRIC)) hist(name, `${fieldHelp[field]} In seconds.`, cls, SECONDS_BUCKETS, 1e9);
    const valueFields = new Set(Object.values(VALUE_FIELDS).flatMap((fs) => fs.map((f) => f.field)));
    for (const field of valueFields) hist(VALUE_METRIC(field), `Per-record distribution of the card field ${field}.`, cls, COUNT_BUCKETS, 1);
  }

  /** Declares a cell (once): its info series and the zero-valued series dashboards rely on. Returns its labels. */
  addCell(cell: Cell): Labels {
    const base = this.labelsOf(cell);
    if (this.declared.has(cell.id)) return base;
    this.declared.add(cell.id);
    this.gauges.info.set(base, 1);
    this.gauges.activeConnections.set(base, cell.concurrency);
    for (const c of [this.counters.busy, this.counters.conflicts, this.counters.lateStarts, this.counters.windows]) c.inc(base, 0);
    for (const error of ['busy', 'write_conflict', 'schema_changed', 'session_not_found']) this.counters.attemptErrors.inc({ ...base, error }, 0);
    for (const outcome of ['ok', 'failed']) this.counters.rounds.inc({ ...base, outcome }, 0);
    for (const c of SWITCHABLE_CLASSES) {
      const cl = this.classLabels(cell, c);
      for (const v of ['match', 'diverged', 'inconclusive']) this.counters.verdicts.inc({ ...cl, shadow_verdict: v }, 0);
      this.counters.fallbacks.inc(cl, 0);
    }
    this.counters.sessionNotFound.inc(this.classLabels(cell, 'M11'), 0);
    this.counters.torn.inc(this.classLabels(cell, 'M1'), 0);
    return base;
  }

  /** One window delta of one connection (the runner's onWindow). */
  onWindow(cell: Cell, delta: WindowDelta): void {
    const base = this.addCell(cell);
    this.windows++;
    this.counters.windows.inc(base);
    for (const [k, v] of Object.entries(delta.counters)) this.counter(cell, base, k, v);
    for (const [k, buckets] of Object.entries(delta.histograms)) this.histogram(cell, base, delta.connection, k, buckets);
    this.samples(cell, delta.samples);
  }

  /** A finished round (the runner's onRound), with the triggers that fired during it. */
  onRound(cell: Cell, round: { operations: number; measured_ms: number; failures: readonly string[]; events?: readonly TriggerEventLike[] } | null): void {
    const base = this.addCell(cell);
    for (const e of round?.events ?? []) {
      const cl = this.classLabels(cell, e.metadata_class);
      this.counters.triggerEvents.inc({ ...cl, trigger: e.trigger, action: e.action });
      if (e.action === 'force_legacy' && isSwitchable(e.metadata_class)) this.counters.fallbacks.inc(cl);
    }
    this.counters.rounds.inc({ ...base, outcome: round === null || round.failures.length > 0 ? 'failed' : 'ok' });
    if (round !== null && round.measured_ms > 0) this.gauges.throughput.set(base, round.operations / (round.measured_ms / 1000));
  }

  /** A class forced back to legacy while the run goes on (the cards' fallback action), reported live. */
  onFallback(cell: Cell, cls: SwitchableClass): void {
    this.counters.fallbacks.inc(this.classLabels(cell, cls));
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  histogramMetric(name: string): HdrHistogramMetric | undefined {
    return this.hists.get(name);
  }

  /** The cell's labels (computed once). */
  labelsOf(cell: Cell): Labels {
    let l = this.cellLabels.get(cell.id);
    if (l === undefined) {
      l = {
        run: this.run,
        variant: cell.variant,
        backend: cell.backend,
        workload: cell.workload.spec.name,
        concurrency: String(cell.concurrency),
        mode_set: cell.modeSet.label,
      };
      this.cellLabels.set(cell.id, l);
    }
    return l;
  }

  classLabels(cell: Cell, cls: MetadataClass): Labels {
    return { ...this.labelsOf(cell), metadata_class: cls, control_mode: isSwitchable(cls) ? modeName(cls, cell.modeSet.modes[cls]) : 'keep_local' };
  }

  private counter(cell: Cell, base: Labels, name: string, v: number): void {
    const key = parseKey(name);
    const c = this.counters;
    switch (key.kind) {
      case 'late_starts':
        c.lateStarts.inc(base, v);
        return;
      case 'op':
        if (key.figure === 'ok') c.operations.inc({ ...base, op_kind: key.op }, v);
        else if (key.figure === 'retries') c.retries.inc({ ...base, op_kind: key.op }, v);
        return;
      case 'op_error':
        c.operationErrors.inc({ ...base, op_kind: key.op, error: key.code }, v);
        return;
      case 'attempt_error':
        c.attemptErrors.inc({ ...base, error: key.code }, v);
        if (key.code === 'busy') c.busy.inc(base, v);
        if (key.code === 'write_conflict') c.conflicts.inc(base, v);
        return;
      case 'gap':
        c.gaps.inc({ ...this.classLabels(cell, key.cls), field: key.field }, v);
        return;
      case 'record_count':
        c.records.inc({ ...this.classLabels(cell, key.cls), operation: key.operation }, v);
        return;
      case 'value': {
        const { cls, field, value } = key;
        const cl = this.classLabels(cell, cls);
        if (fieldNames(FLAG_FIELDS[cls]).includes(field) && (value === 'true' || value === 'false')) {
          c.flags.inc({ ...cl, field, value }, v);
          if (value === 'true' && field === 'session_not_found') c.sessionNotFound.inc(cl, v);
          if (value === 'true' && field === 'torn') c.torn.inc(cl, v);
        } else if (field === 'shard_id') c.shardSessions.inc({ ...cl, shard_id: value }, v);
        else if (field === 'shadow_verdict') c.verdicts.inc({ ...cl, shadow_verdict: value }, v);
        else if (field === 'control_mode') c.modeRecords.inc({ ...cl, record_control_mode: value }, v);
        else if (field === 'refresh_reason') c.refreshReasons.inc({ ...cl, refresh_reason: value }, v);
        return;
      }
      default:
        // Sums ride on the histograms; per-operation flags and winsorized sums are the gate's.
        return;
    }
  }

  private histogram(cell: Cell, base: Labels, connection: number, name: string, buckets: SparseCounts): void {
    const key = parseKey(name);
    if (key.kind === 'op') {
      const metric =
        key.figure === 'latency_ns' ? 'shadowbench_operation_latency_seconds' : key.figure === 'service_ns' ? 'shadowbench_operation_service_seconds' : null;
      if (metric !== null) this.hists.get(metric)!.addBuckets({ ...base, op_kind: key.op }, buckets);
      return;
    }
    if (key.kind === 'duration' && key.figure === 'histogram') {
      this.hists.get('shadowbench_field_operation_duration_seconds')!.addBuckets({ ...this.classLabels(cell, key.cls), operation: key.operation }, buckets);
      return;
    }
    if (key.kind !== 'field' || key.figure !== 'histogram') return;
    const { cls, field } = key;
    const cl = this.classLabels(cell, cls);
    if ((LATENCY_FIELDS[cls] ?? []).some((f) => f.field === field) && LATENCY_METRIC[field] !== undefined) {
      this.hists.get(LATENCY_METRIC[field])!.addBuckets(cl, buckets);
      return;
    }
    if ((VALUE_FIELDS[cls] ?? []).some((f) => f.field === field)) {
      const w = this.hists.get(VALUE_METRIC(field))!.addBuckets(cl, buckets);
      if (field === 'snapshot_age_commits') this.windowMax(cell, 'snapshotAge', cl, connection, w.max);
      if (field === 'active_sessions_in_shard') this.windowMax(cell, 'activeSessions', cl, connection, w.max);
    }
  }

  private windowMax(cell: Cell, gauge: keyof Gauges, labels: Labels, connection: number, max: number): void {
    const k = `${cell.id}\u0000${gauge}`;
    let m = this.latest.get(k);
    if (m === undefined) {
      m = new Map();
      this.latest.set(k, m);
    }
    m.set(connection, max);
    this.gauges[gauge].set(labels, Math.max(...m.values()));
  }

  private readonly sampledMax = new Map<string, number>();

  private samples(cell: Cell, samples: readonly FieldRecord[]): void {
    for (const r of samples) {
      const cl = this.classLabels(cell, r.metadata_class);
      if (r.metadata_class === 'M11') {
        const l = { ...cl, shard_id: String(r.shard_id) };
        this.gauges.shardSessions.set(l, r.active_sessions_in_shard);
        this.gauges.shardLockWait.set(l, r.lock_wait_ns / 1e9);
      }
      if (r.metadata_class === 'M6') this.maxGauge(cell, 'snapshotGeneration', cl, r.snapshot_generation);
      if ('visible_commit_seq' in r) this.maxGauge(cell, 'visibleCommitSeq', cl, r.visible_commit_seq);
    }
  }

  private maxGauge(cell: Cell, gauge: keyof Gauges, labels: Labels, v: number): void {
    const k = `${cell.id}\u0000${gauge}\u0000${labels['metadata_class']}`;
    const prev = this.sampledMax.get(k);
    if (prev !== undefined && prev >= v) return;
    this.sampledMax.set(k, v);
    this.gauges[gauge].set(labels, v);
  }
}
