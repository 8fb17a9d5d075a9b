// Database configuration: defaults, validation and the fault-injection spec.

import { EngineError } from './errors.ts';
import { METADATA_CLASSES, REQUIRED_FIELDS, type MetadataClass, type ModeIndex, type SwitchableClass } from './fields.ts';

export const BACKENDS = ['memory', 'file'] as const;
export type Backend = (typeof BACKENDS)[number];

export const FSYNC_POLICIES = ['off', 'normal', 'full'] as const;
/** off: never fsync; normal: fsync at checkpoint; full: fsync the WAL at every commit too. */
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];

/** Faults a class accepts. Every class takes `delay_ns`; the others belong to one class each. */
export interface ClassFaults {
  /** Busy-wait this long on the class's path, per operation. */
  delay_ns?: number;
  /** M6: probability that a publish carries the previous commit's state. */
  stale_publish?: number;
  /** M11: probability that a session is registered on a wrong shard. */
  misroute?: number;
  /** M1: probability that a seqlock read returns fields of two publications. */
  torn_read?: number;
}
/** Where a fault is injected: a metadata class's path, or every transaction (`TXN`, delay_ns only). */
export type FaultTarget = MetadataClass | 'TXN';
export type FaultConfig = { [C in FaultTarget]?: ClassFaults };

const FAULT_OWNER: Record<keyof ClassFaults, MetadataClass | 'any'> = {
  delay_ns: 'any',
  stale_publish: 'M6',
  misroute: 'M11',
  torn_read: 'M1',
};

export interface DatabaseConfig {
  backend: Backend;
  /** File backend: the database file; the WAL lives beside it at `${path}-wal`. */
  path: string | null;
  pageSize: number;
  /** Pages including page 0, which holds the schema. */
  pageCount: number;
  /** MVCC versions kept per page; bounds how far behind a reader may lag. */
  versionsPerPage: number;
  maxConnections: number;
  registryShards: number;
  fsync: FsyncPolicy;
  busyTimeoutMs: number;
  /** File backend: checkpoint when the WAL reaches this many frames (0 = only on request). */
  autoCheckpointFrames: number;
  /** Initial table columns (8-byte numeric slots in every page). */
  columns: string[];
  /** Initial control mode per switchable class (0 legacy, 1 shadow_compare, 2 new). */
  modes: Record<SwitchableClass, ModeIndex>;
  faults: FaultConfig;
  /** Seeds fault injection and trace ids, so a run is reproducible. */
  seed: number;
  /** M1: seqlock retries before a reader falls back to the publish lock. */
  maxReadRetries: number;
  /** M1 polling: spin budget before a waiter starts sleeping between polls. */
  pollSpinBudget: number;
  /** M1 polling: the cap of the exponential backoff sleep, µs. */
  maxBackoffUs: number;
  /**
   * shadow_compare runs the comparison on this fraction of transactions (1 =
   * all), chosen deterministically from each transaction's trace_id; the
   * others take the legacy path alone.
   */
  shadowSampleRatio: number;
  /** Fields a shadow comparison ignores per class (the cards' allowed-difference policy). */
  shadowAllowedDifferences: Partial<Record<SwitchableClass, string[]>>;
}

/** The fields each class's shadow comparison looks at, by their card names. */
export const SHADOW_COMPARED: Record<SwitchableClass, readonly string[]> = {
  M6: ['visible_commit_seq', 'db_size', 'freelist_count', 'schema_cookie', 'schema_generation'],
  M1: ['sequence_value', 'db_size', 'schema_cookie', 'checkpoint_seq'],
  M11: ['session_found'],
};

export const DEFAULT_CONFIG: Readonly<DatabaseConfig> = Object.freeze<DatabaseConfig>({
  backend: 'memory',
  path: null,
  pageSize: 4096,
  pageCount: 1024,
  versionsPerPage: 6,
  maxConnections: 16,
  registryShards: 8,
  fsync: 'normal',
  busyTimeoutMs: 2000,
  autoCheckpointFrames: 1000,
  columns: ['value'],
  modes: { M1: 0, M6: 0, M11: 0 },
  faults: {},
  seed: 1,
  maxReadRetries: 64,
  pollSpinBudget: 2048,
  maxBackoffUs: 200,
  shadowSampleRatio: 1,
  shadowAllowedDifferences: {},
});

export type DatabaseOptions = Partial<DatabaseConfig>;

function fail(field: string, why: string): never {
  throw new EngineError('config', `invalid engine config: ${field} ${why}`, { field });
}

function intIn(field: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) fail(field, `must be an integer in [${lo}, ${hi}], got ${String(v)}`);
}

export function resolveConfig(options: DatabaseOptions = {}): DatabaseConfig {
  const c: DatabaseConfig = {
    ...DEFAULT_CONFIG,
    ...options,
    modes: { ...DEFAULT_CONFIG.modes, ...options.modes },
    faults: structuredClone(options.faults ?? {}),
    shadowAllowedDifferences: structuredClone(options.shadowAllowedDifferences ?? {}),
    columns: [...(options.columns ?? DEFAULT_CONFIG.columns)],
  };
  if (!(BACKENDS as readonly string[]).includes(c.backend)) fail('backend', `must be one of ${BACKENDS.join(', ')}, got ${String(c.backend)}`);
  if (c.backend === 'file' && (typeof c.path !== 'string' || c.path === '')) fail('path', 'is required for the file backend');
  if (!(FSYNC_POLICIES as readonly string[]).includes(c.fsync)) fail('fsync', `must be one of ${FSYNC_POLICIES.join(', ')}, got ${String(c.fsync)}`);
  intIn('pageSize', c.pageSize, 512, 65536);
  if (c.pageSize % 8 !== 0) fail('pageSize', 'must be a multiple of 8');
  intIn('pageCount', c.pageCount, 2, 1 << 20);
  intIn('versionsPerPage', c.versionsPerPage, 2, 64);
  intIn('maxConnections', c.maxConnections, 1, 256);
  intIn('registryShards', c.registryShards, 1, 256);
  intIn('busyTimeoutMs', c.busyTimeoutMs, 0, 3_600_000);
  intIn('autoCheckpointFrames', c.autoCheckpointFrames, 0, 1 << 24);
  intIn('maxReadRetries', c.maxReadRetries, 1, 1 << 20);
  intIn('pollSpinBudget', c.pollSpinBudget, 1, 1 << 24);
  intIn('maxBackoffUs', c.maxBackoffUs, 1, 1_000_000);
  if (c.columns.length === 0 || c.columns.length > c.pageSize / 8 - 1) fail('columns', `must name 1..${c.pageSize / 8 - 1} columns`);
  for (const [k, v] of Object.entries(c.modes)) {
    if (v !== 0 && v !== 1 && v !== 2) fail(`modes.${k}`, `must be 0, 1 or 2, got ${String(v)}`);
  }
  if (typeof c.shadowSampleRatio !== 'number' || !(c.shadowSampleRatio >= 0 && c.shadowSampleRatio <= 1))
    fail('shadowSampleRatio', `must be a number in [0, 1], got ${String(c.shadowSampleRatio)}`);
  for (const [cls, fields] of Object.entries(c.shadowAllowedDifferences)) {
    const known = SHADOW_COMPARED[cls as SwitchableClass] as readonly string[] | undefined;
    if (known === undefined) fail(`shadowAllowedDifferences.${cls}`, 'names no class with a shadow comparison (M1, M6, M11)');
    const cardFields = REQUIRED_FIELDS[cls as SwitchableClass] as readonly string[];
    for (const f of fields ?? []) {
      if (!known.includes(f) && !cardFields.includes(f))
        fail(`shadowAllowedDifferences.${cls}`, `names ${f}, which is neither compared (${known.join(', ')}) nor a card field of ${cls}`);
    }
  }
  validateFaults(c.faults);
  return c;
}

export function validateFaults(faults: FaultConfig): void {
  for (const [cls, spec] of Object.entries(faults)) {
    const txn = cls === 'TXN';
    if (!txn && !(METADATA_CLASSES as readonly string[]).includes(cls)) fail(`faults.${cls}`, 'is not a metadata class (M1..M12) or TXN');
    for (const [name, value] of Object.entries(spec ?? {})) {
      const owner = FAULT_OWNER[name as keyof ClassFaults] as MetadataClass | 'any' | undefined;
      if (owner === undefined) fail(`faults.${cls}.${name}`, `is not a fault (known: ${Object.keys(FAULT_OWNER).join(', ')})`);
      if (txn && name !== 'delay_ns') fail(`faults.${cls}.${name}`, 'TXN takes delay_ns only (CPU work added to every transaction)');
      if (!txn && owner !== 'any' && owner !== cls) fail(`faults.${cls}.${name}`, `applies to ${owner} only`);
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        fail(`faults.${cls}.${name}`, `must be a non-negative number, got ${String(value)}`);
      if (name !== 'delay_ns' && value > 1) fail(`faults.${cls}.${name}`, 'is a probability and must be in [0, 1]');
    }
  }
}

/** Parses one `--inject CLASS.FAULT=VALUE` argument (e.g. `M6.stale_publish=0.01`) into `faults`. */
export function parseInject(spec: string, faults: FaultConfig = {}): FaultConfig {
  const m = /^(M\d{1,2}|TXN)\.([a-z_]+)=(.+)$/.exec(spec.trim());
  if (m === null) throw new EngineError('config', `--inject ${spec}: expected CLASS.FAULT=VALUE, e.g. M6.delay_ns=2000`, { field: 'inject' });
  const [, cls, name, raw] = m as unknown as [string, string, string, string];
  const value = Number(raw);
  const next: FaultConfig = structuredClone(faults);
  const entry: Record<string, number> = { ...(next[cls as FaultTarget] ?? {}) };
  entry[name] = value;
  (next as Record<string, ClassFaults>)[cls] = entry;
  try {
    validateFaults(next);
  } catch (err) {
    throw new EngineError('config', `--inject ${spec}: ${(err as Error).message.replace(/^invalid engine config: /, '')}`, { field: 'inject' });
  }
  return next;
}

export function faultOf(config: DatabaseConfig, cls: MetadataClass): ClassFaults {
  return config.faults[cls] ?? {};
}
