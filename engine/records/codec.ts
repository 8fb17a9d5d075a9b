// Between rows and record objects. Reading a row back into a FieldRecord is
// for the few records that need one (sampled or anomalous transactions, the
// `hook` convenience); writing a record object into a row is how records
// that arrive as objects (another engine's, a test's) join the same path.

import { modeName, type FieldDiff, type FieldRecord, type MetadataClass, type ModeIndex, type SwitchableClass } from '../fields.ts';
import { epochNs } from '../shared/clock.ts';
import {
  CLASS_INDEX,
  COLUMNS,
  FLAG_AUX,
  FLAG_TIMED,
  NOT_MEASURED,
  OPERATIONS,
  REFRESH_REASONS,
  ROW,
  VERDICTS,
  classOfKind,
  columnType,
  operationOfKind,
} from './columns.ts';
import type { RecordSink } from './sink.ts';

const hex8 = (w: number): string => w.toString(16).padStart(8, '0');

/** The trace id of the row at `o`, as the engine has always spelled it: 32 hex digits. */
export function traceIdOf(sink: RecordSink, o: number): string {
  const txn = sink.rows[o + ROW.TXN]!;
  return hex8(sink.traceWord(txn, 0)) + hex8(sink.traceWord(txn, 1)) + hex8(sink.traceWord(txn, 2)) + hex8(sink.traceWord(txn, 3));
}

export interface DecodeOptions {
  /** Start and end (monotonic ms) for a row that was not timed, e.g. its operation's bounds. */
  fallbackT0?: number;
  fallbackT1?: number;
}

/**
 * The record object of the row at `o`. A column never written (NaN) is left
 * out, as a record missing that field, and so is a duration not measured in
 * an untimed transaction; false anomaly markers are left out too, as the
 * engine has always sent them.
 */
export function decodeRow(sink: RecordSink, o: number, options: DecodeOptions = {}): FieldRecord {
  const rows = sink.rows;
  const kind = rows[o + ROW.KIND]!;
  const cls = classOfKind(kind);
  const timed = (kind & FLAG_TIMED) !== 0;
  const t0 = timed ? rows[o + ROW.T0]! : (options.fallbackT0 ?? 0);
  const t1 = timed ? rows[o + ROW.T1]! : (options.fallbackT1 ?? t0);
  const out: Record<string, unknown> = {
    metadata_class: cls,
    trace_id: traceIdOf(sink, o),
    start_ns: epochNs(t0),
    end_ns: epochNs(t1),
    operation: operationOfKind(kind),
  };
  COLUMNS[cls].forEach((field, i) => {
    const v = rows[o + ROW.FIELDS + i]!;
    if (Number.isNaN(v) || (v === NOT_MEASURED && field === 'reset_ns')) return;
    const value = readColumn(cls, field, v);
    if (value === false && (field === 'torn' || field === 'session_not_found')) return;
    out[field] = value;
  });
  if ((kind & FLAG_AUX) !== 0) {
    const diffs = sink.attached[rows[o + ROW.AUX]!] as FieldDiff[] | undefined;
    if (diffs !== undefined && diffs.length > 0) out['diverged_fields'] = diffs;
  }
  return out as unknown as FieldRecord;
}

function readColumn(cls: MetadataClass, field: string, v: number): unknown {
  switch (columnType(field)) {
    case 'flag':
      return v !== 0;
    case 'control_mode':
      return modeName(cls as SwitchableClass, v as ModeIndex);
    case 'shadow_verdict':
      return VERDICTS[v];
    case 'refresh_reason':
      return REFRESH_REASONS[v];
    default:
      return v;
  }
}

function writeColumn(field: string, value: unknown): number {
  if (value === undefined || value === null) return NaN;
  switch (columnType(field)) {
    case 'flag':
      return value === true ? 1 : value === false ? 0 : NaN;
    case 'control_mode':
      return value === 'legacy' ? 0 : value === 'shadow_compare' ? 1 : typeof value === 'string' ? 2 : NaN;
    case 'shadow_verdict':
      return indexOr(VERDICTS, value);
    case 'refresh_reason':
      return indexOr(REFRESH_REASONS, value);
    default:
      return typeof value === 'number' ? value : NaN;
  }
}

function indexOr(vocabulary: readonly string[], value: unknown): number {
  const i = vocabulary.indexOf(value as string);
  return i < 0 ? NaN : i;
}

/**
 * Writes a record object into the sink as a row. Its own trace id, start and
 * end are not kept (rows carry the sink's transaction); a record of an
 * unknown class or operation is refused with the reason, so it never
 * becomes a row that reads as something else.
 */
export function writeRecord(sink: RecordSink, r: FieldRecord, t0: number, t1: number): void {
  const cls = r.metadata_class;
  const ci = CLASS_INDEX[cls];
  if (ci === undefined) throw new Error(`field record of unknown metadata_class ${JSON.stringify(cls)}`);
  const op = (OPERATIONS[cls] as readonly string[]).indexOf(r.operation);
  if (op < 0) throw new Error(`${cls} field record with unknown operation ${JSON.stringify(r.operation)}`);
  const o = sink.open(ci * 8 + op, t0, t1);
  const rows = sink.rows;
  const f = r as unknown as Record<string, unknown>;
  COLUMNS[cls].forEach((field, i) => {
    rows[o + ROW.FIELDS + i] = field === 'torn' || field === 'session_not_found' ? (f[field] === true ? 1 : 0) : writeColumn(field, f[field]);
  });
  const diffs = (r as { diverged_fields?: FieldDiff[] }).diverged_fields;
  if (diffs !== undefined) sink.attach(o, diffs);
  sink.done();
}
