// The names of a recorder's figures, made and read in one place. A counter
// or histogram name is a dotted key (`op.read.latency_ns`,
// `M6.shadow_verdict.diverged`, `gap.M11.shard_id`); builders make them and
// `parseKey` reads one back into a typed key, so no other module splits or
// matches names.

import { COLUMNS, METADATA_CLASSES, type MetadataClass } from '../../engine/index.ts';

/** Driver operations: per kind, the latency and service histograms and their counters. */
export const opKey = {
  ok: (kind: string): string => `op.${kind}.ok`,
  latency: (kind: string): string => `op.${kind}.latency_ns`,
  service: (kind: string): string => `op.${kind}.service_ns`,
  serviceSum: (kind: string): string => `op.${kind}.service_ns.sum`,
  retries: (kind: string): string => `op.${kind}.retries`,
  error: (kind: string, code: string): string => `op.${kind}.error.${code}`,
  lateStarts: 'op.late_starts',
} as const;

/** Card records: per class and operation, per field. */
export const recordKey = {
  count: (cls: MetadataClass, operation: string): string => `${cls}.${operation}`,
  duration: (cls: MetadataClass, operation: string): string => `${cls}.${operation}.duration_ns`,
  durationSum: (cls: MetadataClass, operation: string): string => `${cls}.${operation}.duration_ns.sum`,
  durationCount: (cls: MetadataClass, operation: string): string => `${cls}.${operation}.duration_ns.count`,
  field: (cls: MetadataClass, field: string): string => `${cls}.${field}`,
  fieldSum: (cls: MetadataClass, field: string): string => `${cls}.${field}.sum`,
  value: (cls: MetadataClass, field: string, value: string | number | boolean): string => `${cls}.${field}.${String(value)}`,
  opFlag: (cls: MetadataClass, operation: string, field: string, value: boolean): string => `${cls}.${operation}.${field}.${String(value)}`,
  gap: (cls: MetadataClass, field: string): string => `gap.${cls}.${field}`,
} as const;

/** An attempt that failed with an engine error code (retried or not). */
export const attemptErrorKey = (code: string): string => `errors.${code}`;

/** A histogram's winsorized sum (see Registry.takeHistograms). */
export const winsorizedKey = (histogram: string): string => `${histogram}.wsum`;

export type Key =
  | { kind: 'op'; op: string; figure: 'ok' | 'latency_ns' | 'service_ns' | 'service_ns.sum' | 'retries' | 'service_ns.wsum' | 'latency_ns.wsum' }
  | { kind: 'op_error'; op: string; code: string }
  | { kind: 'late_starts' }
  | { kind: 'attempt_error'; code: string }
  | { kind: 'gap'; cls: MetadataClass; field: string }
  | { kind: 'record_count'; cls: MetadataClass; operation: string }
  | { kind: 'duration'; cls: MetadataClass; operation: string; figure: 'histogram' | 'sum' | 'count' | 'wsum' }
  | { kind: 'field'; cls: MetadataClass; field: string; figure: 'histogram' | 'sum' | 'wsum' }
  | { kind: 'value'; cls: MetadataClass; field: string; value: string }
  | { kind: 'op_flag'; cls: MetadataClass; operation: string; field: string; value: boolean }
  | { kind: 'other'; name: string };

const CLASSES: ReadonlySet<string> = new Set(METADATA_CLASSES);
const OP_FIGURES: ReadonlySet<string> = new Set(['ok', 'latency_ns', 'service_ns', 'service_ns.sum', 'retries', 'service_ns.wsum', 'latency_ns.wsum']);

/** Whether `name` is one of a class's card columns (`M6.alloc_ns` is a field, `M6.read` an operation). */
const isField = (cls: MetadataClass, name: string): boolean => (COLUMNS[cls] as readonly string[]).includes(name);

/** Reads a counter or histogram name back. */
export function parseKey(name: string): Key {
  const parts = name.split('.');
  const [head, a, b, c] = parts;
  if (head === 'op') {
    if (a === 'late_starts' && parts.length === 2) return { kind: 'late_starts' };
    if (a !== undefined && b === 'error' && c !== undefined && parts.length === 4) return { kind: 'op_error', op: a, code: c };
    const figure = parts.slice(2).join('.');
    if (a !== undefined && OP_FIGURES.has(figure)) return { kind: 'op', op: a, figure: figure as Extract<Key, { kind: 'op' }>['figure'] };
    return { kind: 'other', name };
  }
  if (head === 'errors' && a !== undefined && parts.length === 2) return { kind: 'attempt_error', code: a };
  if (head === 'gap' && a !== undefined && CLASSES.has(a) && b !== undefined && parts.length === 3) return { kind: 'gap', cls: a as MetadataClass, field: b };
  if (head === undefined || !CLASSES.has(head) || a === undefined) return { kind: 'other', name };
  const cls = head as MetadataClass;
  if (isField(cls, a)) {
    if (parts.length === 2) return { kind: 'field', cls, field: a, figure: 'histogram' };
    if (parts.length === 3 && (b === 'sum' || b === 'wsum')) return { kind: 'field', cls, field: a, figure: b };
    if (parts.length === 3 && b !== undefined) return { kind: 'value', cls, field: a, value: b };
    return { kind: 'other', name };
  }
  // `a` is an operation.
  if (parts.length === 2) return { kind: 'record_count', cls, operation: a };
  if (b === 'duration_ns') {
    if (parts.length === 3) return { kind: 'duration', cls, operation: a, figure: 'histogram' };
    if (parts.length === 4 && (c === 'sum' || c === 'count' || c === 'wsum')) return { kind: 'duration', cls, operation: a, figure: c };
  }
  if (b !== undefined && parts.length === 4 && (c === 'true' || c === 'false')) return { kind: 'op_flag', cls, operation: a, field: b, value: c === 'true' };
  return { kind: 'other', name };
}

/** The card class a figure belongs to, if any. */
export const classOfKey = (key: Key): MetadataClass | null => ('cls' in key ? key.cls : null);

/** The operation kind whose latency histogram `name` is, or null. */
export function latencyOpOf(name: string): string | null {
  const key = parseKey(name);
  return key.kind === 'op' && key.figure === 'latency_ns' ? key.op : null;
}
