// The engine's public surface. engine/ imports nothing from harness/ and no
// telemetry library: it reports through plain field records.

export {
  openDatabase,
  cloneDatabase,
  connect,
  Database,
  setControlMode,
  controlModes,
  modeIndexOf,
  type EngineDescription,
  type CloneOptions,
} from './database.ts';
export { Connection, type ConnectionOptions, type TxnKind, type PreparedStatement } from './connection.ts';
export { EngineError, isEngineError, isRetryable, type EngineErrorCode } from './errors.ts';
export {
  resolveConfig,
  parseInject,
  DEFAULT_CONFIG,
  BACKENDS,
  FSYNC_POLICIES,
  type DatabaseConfig,
  type DatabaseOptions,
  type FaultConfig,
  type ClassFaults,
  type Backend,
  type FsyncPolicy,
} from './config.ts';
export * from './fields.ts';
export type { SharedDatabase } from './shared/layout.ts';
export type { RecoveryReport } from './store/file-store.ts';
export { shardOf } from './classes/m11-session-registry.ts';
export { RecordSink, type RecordSinkOptions } from './records/sink.ts';
export {
  ROW,
  COL,
  COLUMNS,
  OPERATIONS,
  VERDICTS,
  VERDICT,
  REFRESH_REASONS,
  KINDS,
  KIND_MASK,
  NOT_MEASURED,
  FLAG_SAMPLED,
  FLAG_TIMED,
  FLAG_AUX,
  CLASS_INDEX,
  kindOf,
  classOfKind,
  operationOfKind,
  columnType,
  type ColumnType,
} from './records/columns.ts';
export { decodeRow, writeRecord, traceIdOf, type DecodeOptions } from './records/codec.ts';
export { Xorshift32 } from './shared/random.ts';
