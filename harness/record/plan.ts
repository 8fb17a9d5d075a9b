// What one row kind (a class and operation) records into, resolved once per
// recorder from the field tables (fields.ts) into a small program of
// numeric steps: record a column into a histogram, count a flag, count an
// enum value. Draining a row then only indexes. Counts the hot path can
// derive later (a flag's false count, an enum's per-class total) are kept
// per kind in raw cells and named at flush (see `settle`).

import {
  COLUMNS,
  REFRESH_REASONS,
  REQUIRED_FIELDS,
  ROW,
  VERDICTS,
  classOfKind,
  modeName,
  operationOfKind,
  type MetadataClass,
  type SwitchableClass,
} from '../../engine/index.ts';
import { ENUM_FIELDS, FLAG_FIELDS, LATENCY_FIELDS, LATENCY_MAX_NS, VALUE_FIELDS, VALUE_MAX, type NumericField } from './fields.ts';
import type { BucketCounts } from './bucket-counts.ts';
import type { Registry } from './registry.ts';
import { recordKey } from './keys.ts';

/** Step opcodes; a step is four Int32 words: opcode, column offset, a, b. */
export const STEP_HIST = 1; // a: histogram id, b: sum counter id
export const STEP_FLAG = 2; // a: raw cell of the kind's true count
export const STEP_ENUM = 3; // a: first raw cell of the value block, b: vocabulary size
export const STEP_SHARD = 4; // a: index into the plan's open-ended enums

export interface KindPlan {
  cls: MetadataClass;
  operation: string;
  /** Counter id of the kind's record count. */
  count: number;
  duration: number;
  durationSum: number;
  /** Counter id of the kind's timed records (the duration histogram's count, for triggers that scale sums). */
  durationCount: number;
  steps: Int32Array;
  /** Flags: raw true cell → the counters it settles into. */
  flags: { raw: number; field: string; yes: number; no: number; opYes: number; opNo: number }[];
  /** Enums: raw value block → one class counter per value. */
  enums: { raw: number; ids: number[] }[];
  /** Open-ended enums (shard ids): counter id per value, named on first sight. */
  shards: { field: string; ids: number[] }[];
  /** Offsets of the anomaly columns (-1 when the class has none). */
  verdictCol: number;
  tornCol: number;
  notFoundCol: number;
  /** The running p99.9 of this kind's timed durations (ns): a timed row above it is an anomaly. */
  p999: number;
  sinceP999: number;
}

const colOf = (cls: MetadataClass, field: string): number => {
  const i = (COLUMNS[cls] as readonly string[]).indexOf(field);
  return i < 0 ? -1 : ROW.FIELDS + i;
};

function vocabulary(cls: MetadataClass, field: string): readonly string[] {
  if (field === 'shadow_verdict') return VERDICTS;
  if (field === 'refresh_reason') return REFRESH_REASONS;
  if (field === 'control_mode') return [0, 1, 2].map((m) => modeName(cls as SwitchableClass, m as 0 | 1 | 2));
  throw new Error(`${cls}.${field}: not an enum column`);
}

/** Raw cells: per-kind counts the hot path writes and `settle` names. */
export class RawCells {
  counts = new Float64Array(256);
  private used = 0;

  alloc(n: number): number {
    const at = this.used;
    this.used += n;
    if (this.used > this.counts.length) {
      const grown = new Float64Array(Math.max(this.used, this.counts.length * 2));
      grown.set(this.counts);
      this.counts = grown;
    }
    return at;
  }
}

/**
 * The plan of a row kind. The kind's first row is at `o`: a required field it
 * does not carry is counted as a gap, once per kind.
 */
export function planOf(kind: number, reg: Registry, raw: RawCells, rows: Float64Array, o: number): KindPlan {
  const cls = classOfKind(kind);
  const operation = operationOfKind(kind);
  for (const field of REQUIRED_FIELDS[cls]) {
    const col = colOf(cls, field);
    if (col >= 0 && Number.isNaN(rows[o + col]!)) reg.counts[reg.counter(recordKey.gap(cls, field))]!++;
  }
  const steps: number[] = [];
  const applies = (m: NumericField): boolean => m.operations === undefined || m.operations.includes(operation);
  const numeric = (fields: readonly NumericField[] | undefined, max: number): void => {
    for (const m of (fields ?? []).filter(applies))
      steps.push(STEP_HIST, colOf(cls, m.field), reg.histogram(recordKey.field(cls, m.field), max), reg.counter(recordKey.fieldSum(cls, m.field)));
  };
  numeric(LATENCY_FIELDS[cls], LATENCY_MAX_NS);
  numeric(VALUE_FIELDS[cls], VALUE_MAX);
  const flags = (FLAG_FIELDS[cls] ?? []).map((field) => {
    const cell = raw.alloc(1);
    steps.push(STEP_FLAG, colOf(cls, field), cell, 0);
    return {
      raw: cell,
      field,
      yes: reg.counter(recordKey.value(cls, field, true)),
      no: reg.counter(recordKey.value(cls, field, false)),
      opYes: reg.counter(recordKey.opFlag(cls, operation, field, true)),
      opNo: reg.counter(recordKey.opFlag(cls, operation, field, false)),
    };
  });
  const enums: KindPlan['enums'] = [];
  const shards: KindPlan['shards'] = [];
  for (const { field } of (ENUM_FIELDS[cls] ?? []).filter(applies)) {
    if (field === 'shard_id') {
      steps.push(STEP_SHARD, colOf(cls, field), shards.length, 0);
      shards.push({ field, ids: [] });
      continue;
    }
    const values = vocabulary(cls, field);
    const cell = raw.alloc(values.length);
    steps.push(STEP_ENUM, colOf(cls, field), cell, values.length);
    enums.push({ raw: cell, ids: values.map((v) => reg.counter(recordKey.value(cls, field, v))) });
  }
  return {
    cls,
    operation,
    count: reg.counter(recordKey.count(cls, operation)),
    duration: reg.histogram(recordKey.duration(cls, operation), LATENCY_MAX_NS),
    durationSum: reg.counter(recordKey.durationSum(cls, operation)),
    durationCount: reg.counter(recordKey.durationCount(cls, operation)),
    steps: Int32Array.from(steps),
    flags,
    enums,
    shards,
    verdictCol: colOf(cls, 'shadow_verdict'),
    tornCol: colOf(cls, 'torn'),
    notFoundCol: colOf(cls, 'session_not_found'),
    p999: 0.5,
    sinceP999: 0,
  };
}

/**
 * Runs a plan's steps on the row at `o`. A NaN column is a field the engine
 * did not report (counted as a gap when the plan was made); a negative
 * duration was not measured (NOT_MEASURED).
 */
export function runSteps(p: KindPlan, rows: Float64Array, o: number, c: Float64Array, raw: Float64Array, hs: readonly BucketCounts[], reg: Registry): void {
  const s = p.steps;
  for (let i = 0; i < s.length; i += 4) {
    const v = rows[o + s[i + 1]!]!;
    switch (s[i]) {
      case STEP_HIST:
        if (v >= 0) {
          hs[s[i + 2]!]!.record(v);
          c[s[i + 3]!]! += v;
        }
        break;
      case STEP_FLAG:
        if (v === 1) raw[s[i + 2]!]!++;
        break;
      case STEP_ENUM:
        if (v >= 0 && v < s[i + 3]!) raw[s[i + 2]! + v]!++;
        break;
      case STEP_SHARD:
        if (v >= 0) {
          const e = p.shards[s[i + 2]!]!;
          c[e.ids[v] ?? (e.ids[v] = reg.counter(recordKey.value(p.cls, e.field, v)))]!++;
        }
        break;
    }
  }
}

/** Names a plan's raw cells into its counters (once per window), then zeroes them. */
export function settle(p: KindPlan, c: Float64Array, raw: Float64Array): void {
  const n = c[p.count]!;
  for (const f of p.flags) {
    const yes = raw[f.raw]!;
    c[f.yes]! += yes;
    c[f.opYes]! += yes;
    c[f.no]! += n - yes;
    c[f.opNo]! += n - yes;
    raw[f.raw] = 0;
  }
  for (const e of p.enums) {
    for (let v = 0; v < e.ids.length; v++) {
      c[e.ids[v]!]! += raw[e.raw + v]!;
      raw[e.raw + v] = 0;
    }
  }
}
