// The engine's public surface. engine/ imports nothing from harness/ and no
// telemetry library: it reports through plain field records.

export { openDatabase, connect, Database, setControlMode, controlModes, modeIndexOf, type EngineDescription } from './database.ts';
export { Connection, type ConnectionOptions, type TxnKind, type PreparedStatement } from './connection.ts';
export { EngineError, isRetryable, type EngineErrorCode } from './errors.ts';
export {
  resolveConfig, parseInject, DEFAULT_CONFIG, BACKENDS, FSYNC_POLICIES,
  type DatabaseConfig, type DatabaseOptions, type FaultConfig, type ClassFaults, type Backend, type FsyncPolicy,
} from './config.ts';
export * from './fields.ts';
export type { SharedDatabase } from './shared/layout.ts';
export type { RecoveryReport } from './store/file-store.ts';
export { shardOf } from './classes/m11-session-registry.ts';
