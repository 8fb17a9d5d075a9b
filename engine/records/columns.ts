// The numeric form of a field record, fixed by the cards: each record is one
// row of numbers. A row's kind names its class and operation; its columns are
// the card's required fields in the card's order (trace_id, metadata_class and
// operation live in the row header), enums stored as indexes into the
// vocabularies below and booleans as 0/1. The engine writes rows; whoever
// listens reads them by these indexes, so no record object, string or key is
// built per operation.

import { METADATA_CLASSES, REQUIRED_FIELDS, type MetadataClass, type RecordByClass } from '../fields.ts';

export const VERDICTS = ['none', 'match', 'diverged', 'inconclusive'] as const;
/** A verdict's number in a row (its index in VERDICTS). */
export const VERDICT = { none: 0, match: 1, diverged: 2, inconclusive: 3 } as const satisfies { [V in (typeof VERDICTS)[number]]: number };
export const REFRESH_REASONS = ['none', 'initial', 'remote_commit', 'schema_change'] as const;

/** Every operation of each class, in a fixed order: a row's kind is (class, index here). */
export const OPERATIONS = {
  M1: ['publish', 'read', 'wait'],
  M2: ['bind'],
  M3: ['check', 'invalidate'],
  M4: ['park', 'reuse', 'invalidate'],
  M5: ['park', 'reuse', 'invalidate'],
  M6: ['publish', 'read', 'shadow_compare'],
  M7: ['refresh', 'append'],
  M8: ['compare', 'refresh'],
  M9: ['check', 'refresh'],
  M10: ['reuse', 'rebuild', 'invalidate'],
  M11: ['begin', 'commit', 'abort', 'lookup'],
  M12: ['parse_hit', 'parse_miss', 'compile_hit', 'compile_miss', 'invalidate'],
} as const satisfies { [C in MetadataClass]: readonly RecordByClass[C]['operation'][] };

/** Fields that are not the card's but travel with the record (anomaly markers). */
const EXTRA_COLUMNS = { M1: ['torn'], M11: ['session_not_found'] } as const satisfies Partial<{ [C in MetadataClass]: readonly (keyof RecordByClass[C])[] }>;

const HEADER_FIELDS: ReadonlySet<string> = new Set(['trace_id', 'metadata_class', 'operation']);

/** How a column's number is read back. */
export type ColumnType = 'number' | 'flag' | 'control_mode' | 'shadow_verdict' | 'refresh_reason';

const FLAG_NAMES: ReadonlySet<string> = new Set([
  'is_memory',
  'reprepare_triggered',
  'cookie_match',
  'cache_hit',
  'rebuild_required',
  'salts_changed',
  'stale_detected',
  'torn',
  'session_not_found',
]);

export function columnType(field: string): ColumnType {
  if (field === 'control_mode' || field === 'shadow_verdict' || field === 'refresh_reason') return field;
  return FLAG_NAMES.has(field) ? 'flag' : 'number';
}

/** Row layout: a header, then up to 8 columns. */
export const ROW = {
  /** class index * 8 + operation index, plus the FLAG_* bits. */
  KIND: 0,
  /** The transaction's serial in its sink, which keeps its trace id. */
  TXN: 1,
  /** Monotonic ms (performance.now()) at the start and end of the record, when FLAG_TIMED. */
  T0: 2,
  T1: 3,
  /** Index of an attached object (a diverged comparison's field diffs), when FLAG_AUX. */
  AUX: 4,
  FIELDS: 8,
  STRIDE: 16,
} as const;

/**
 * M10's reset_ns when the transaction was not timed: a reset is shorter than
 * the two clock reads that would time it.
 */
export const NOT_MEASURED = -1;

export const KIND_MASK = 127;
/** The transaction is head-sampled: all its records become full records and spans. */
export const FLAG_SAMPLED = 128;
/** The record carries its start and end. */
export const FLAG_TIMED = 256;
/** The record has an attached object. */
export const FLAG_AUX = 512;

export const CLASS_INDEX = Object.fromEntries(METADATA_CLASSES.map((c, i) => [c, i])) as { readonly [C in MetadataClass]: number };

type ColumnName<C extends MetadataClass> =
  | Exclude<(typeof REQUIRED_FIELDS)[C][number], 'trace_id' | 'metadata_class' | 'operation'>
  | (C extends keyof typeof EXTRA_COLUMNS ? (typeof EXTRA_COLUMNS)[C][number] : never);

/** Column names of each class, in row order. */
export const COLUMNS = Object.fromEntries(
  METADATA_CLASSES.map((c) => [
    c,
    [...REQUIRED_FIELDS[c].filter((f) => !HEADER_FIELDS.has(f)), ...((EXTRA_COLUMNS as Partial<Record<MetadataClass, readonly string[]>>)[c] ?? [])],
  ]),
) as unknown as { readonly [C in MetadataClass]: readonly ColumnName<C>[] };

/** A column's index within a row, per class: `rows[base + COL.M6.db_size]`. */
export const COL = Object.fromEntries(METADATA_CLASSES.map((c) => [c, Object.fromEntries(COLUMNS[c].map((f, i) => [f, ROW.FIELDS + i]))])) as unknown as {
  readonly [C in MetadataClass]: { readonly [F in ColumnName<C>]: number };
};

for (const c of METADATA_CLASSES) {
  if (COLUMNS[c].length > ROW.STRIDE - ROW.FIELDS) throw new Error(`${c}: ${COLUMNS[c].length} columns do not fit a row`);
}

/** The kind of a (class, operation) row. */
export function kindOf<C extends MetadataClass>(cls: C, operation: (typeof OPERATIONS)[C][number]): number {
  const op = (OPERATIONS[cls] as readonly string[]).indexOf(operation);
  if (op < 0) throw new Error(`${cls} has no operation ${operation}`);
  return CLASS_INDEX[cls] * 8 + op;
}

export function classOfKind(kind: number): MetadataClass {
  return METADATA_CLASSES[(kind & KIND_MASK) >> 3]!;
}

export function operationOfKind(kind: number): string {
  const cls = classOfKind(kind);
  const op = (OPERATIONS[cls] as readonly string[])[kind & 7];
  if (op === undefined) throw new Error(`row kind ${kind & KIND_MASK}: ${cls} has no operation ${kind & 7}`);
  return op;
}

/** Every valid kind, for consumers that resolve their per-kind plans up front. */
export const KINDS: readonly number[] = METADATA_CLASSES.flatMap((c) => OPERATIONS[c].map((_, i) => CLASS_INDEX[c] * 8 + i));
