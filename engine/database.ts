// Opening a database: allocate the shared memory, load or recover the
// committed state, and hand out connections. The shared handle is
// structured-clone friendly: pass `db.shared` to a worker and call
// `connect(shared)` there.

import { resolveConfig, validateFaults, type DatabaseConfig, type DatabaseOptions, type FaultConfig } from './config.ts';
import { Connection, type ConnectionOptions } from './connection.ts';
import { isSwitchable, modeName, MODE_INDEX, NEW_MODE, SWITCHABLE_CLASSES, type ControlMode, type ModeIndex, type SwitchableClass } from './fields.ts';
import { EngineError } from './errors.ts';
import { CTL, M6, allocateShared, type SharedDatabase } from './shared/layout.ts';
import { PageStore } from './store/page-store.ts';
import { FileStore, type RecoveryReport } from './store/file-store.ts';
import { encodeSchema } from './schema.ts';
import { initCommittedState, switchM6Mode } from './classes/m6-committed-state.ts';
import { initSummary } from './classes/m1-published-pager-state.ts';

export interface EngineDescription {
  backend: DatabaseConfig['backend'];
  path: string | null;
  page_size: number;
  page_count: number;
  versions_per_page: number;
  max_connections: number;
  registry_shards: number;
  fsync: DatabaseConfig['fsync'];
  busy_timeout_ms: number;
  control_modes: Record<SwitchableClass, ControlMode>;
  /** Every injected fault, always shown: a figure taken with faults on must say so. */
  faults: FaultConfig;
  fault_injection_active: boolean;
  /** shadow_compare's sampled fraction and the fields its comparisons ignore. */
  shadow_sample_ratio: number;
  shadow_allowed_differences: DatabaseConfig['shadowAllowedDifferences'];
  seed: number;
  recovery: RecoveryReport | null;
}

export class Database {
  constructor(
    readonly shared: SharedDatabase,
    readonly recovery: RecoveryReport | null,
  ) {}

  get config(): DatabaseConfig {
    return this.shared.config;
  }

  connect(options?: ConnectionOptions): Connection {
    return new Connection(this.shared, options);
  }

  /** Changes a class's control mode while connections run; takes effect at each connection's next begin. */
  setMode(cls: SwitchableClass, mode: ModeIndex | ControlMode): void {
    setControlMode(this.shared, cls, mode);
  }

  /** The card's fallback action: force the class back to `legacy`. */
  forceLegacy(cls: SwitchableClass): void {
    setControlMode(this.shared, cls, 0);
  }

  /**
   * Injects faults into connections opened from now on (threads that connect
   * later see them through `shared`); connections already open keep theirs.
   * A fixture is loaded before its faults are armed: the faults are the
   * experiment, not the starting state.
   */
  armFaults(faults: FaultConfig): void {
    validateFaults(faults);
    this.shared.config = { ...this.shared.config, faults: structuredClone(faults) };
  }

  modes(): Record<SwitchableClass, ControlMode> {
    return controlModes(this.shared);
  }

  describe(): EngineDescription {
    const c = this.config;
    return {
      backend: c.backend,
      path: c.path,
      page_size: c.pageSize,
      page_count: c.pageCount,
      versions_per_page: c.versionsPerPage,
      max_connections: c.maxConnections,
      registry_shards: c.registryShards,
      fsync: c.fsync,
      busy_timeout_ms: c.busyTimeoutMs,
      control_modes: this.modes(),
      faults: structuredClone(c.faults),
      fault_injection_active: Object.keys(c.faults).length > 0,
      shadow_sample_ratio: c.shadowSampleRatio,
      shadow_allowed_differences: structuredClone(c.shadowAllowedDifferences),
      seed: c.seed,
      recovery: this.recovery,
    };
  }
}

const MODE_WORD: Record<SwitchableClass, number> = { M1: CTL.MODE_M1, M6: CTL.MODE_M6, M11: CTL.MODE_M11 };

/** Resolves a mode name (`legacy`, `shadow_compare`, `new`, or the class's own name such as `snapshot`). */
export function modeIndexOf(cls: SwitchableClass, mode: ModeIndex | string): ModeIndex {
  if (mode === 0 || mode === 1 || mode === 2) return mode;
  if (mode === 'legacy') return MODE_INDEX.legacy;
  if (mode === 'shadow_compare') return MODE_INDEX.shadow_compare;
  if (mode === 'new' || mode === NEW_MODE[cls]) return MODE_INDEX.new;
  throw new EngineError('config', `unknown control mode "${String(mode)}" for ${cls} (legacy, shadow_compare, ${NEW_MODE[cls]})`, { field: 'mode' });
}

export function setControlMode(shared: SharedDatabase, cls: SwitchableClass, mode: ModeIndex | string): void {
  if (!isSwitchable(cls)) throw new EngineError('config', `${String(cls)} has no control modes (only ${SWITCHABLE_CLASSES.join(', ')})`, { field: 'class' });
  const index = modeIndexOf(cls, mode);
  const ctl = new Int32Array(shared.ctl);
  if (cls === 'M6') switchM6Mode(shared, shared.config, index);
  else Atomics.store(ctl, MODE_WORD[cls], index);
  Atomics.add(ctl, CTL.MODE_EPOCH, 1);
}

export function controlModes(shared: SharedDatabase): Record<SwitchableClass, ControlMode> {
  const ctl = new Int32Array(shared.ctl);
  const of = <C extends SwitchableClass>(c: C): ControlMode => modeName(c, Atomics.load(ctl, MODE_WORD[c]) as ModeIndex);
  return { M1: of('M1'), M6: of('M6'), M11: of('M11') };
}

/** Opens a database in this thread: memory backends start empty, file backends recover. */
export function openDatabase(options: DatabaseOptions = {}): Database {
  const config = resolveConfig(options);
  const shared = allocateShared(config);
  const pages = new PageStore(shared);
  const page0 = encodeSchema({ columns: config.columns }, config.pageSize);
  let state = { commit_seq: 0, db_size: 1, schema_cookie: 1, schema_generation: 1, checkpoint_seq: 0 };
  let recovery: RecoveryReport | null = null;
  if (config.backend === 'memory') {
    for (let p = 0; p < config.pageCount; p++) pages.loadInitial(p, 0, p === 0 ? page0 : null);
  } else {
    const file = new FileStore(shared, config);
    try {
      ({ state, report: recovery } = file.recover(pages, page0));
    } finally {
      file.close();
    }
  }
  initCommittedState(shared, { ...state, freelist_count: config.pageCount - state.db_size, generation: 0 });
  initSummary(shared, { sequence_value: state.commit_seq, db_size: state.db_size, schema_cookie: state.schema_cookie, checkpoint_seq: state.checkpoint_seq });
  return new Database(shared, recovery);
}

/** What a copy may change of its source's configuration: who runs it, not what it holds or how big it is. */
export type CloneOptions = Pick<DatabaseOptions, 'modes' | 'faults' | 'seed' | 'shadowSampleRatio' | 'shadowAllowedDifferences'>;

/**
 * A memory database holding exactly `source`'s committed state, in memory of
 * its own: every shared buffer is copied (so every page is touched now, not at
 * its first write), then the copy takes its own control modes and faults.
 * `source` must have no connection open.
 */
export function cloneDatabase(source: Database, options: CloneOptions = {}): Database {
  const from = source.shared;
  if (from.config.backend !== 'memory') throw new EngineError('config', 'cloneDatabase: only a memory database can be copied', { field: 'backend' });
  const slots = new Int32Array(from.ctl).subarray(CTL.SLOTS, CTL.SLOTS + from.config.maxConnections);
  if (slots.some((s) => s !== 0)) throw new EngineError('misuse', 'cloneDatabase: the source has connections open', {});
  const config = resolveConfig({ ...from.config, ...options, modes: { M1: 0, M6: 0, M11: 0 } });
  const shared = allocateShared(config);
  for (const key of ['ctl', 'm6', 'm1', 'registry', 'pageLocks', 'versions', 'wal'] as const) new Uint8Array(shared[key]).set(new Uint8Array(from[key]));
  // Pages past the database's size were never written (zero, as fresh memory is): every version slot of
  // the pages in use is copied, so none faults in later, and nothing past them is touched.
  const used = Atomics.load(new Int32Array(from.m6), M6.DB_SIZE) * config.versionsPerPage * config.pageSize;
  new Uint8Array(shared.pages, 0, used).set(new Uint8Array(from.pages, 0, used));
  const clone = new Database(shared, null);
  const modes = options.modes ?? from.config.modes;
  for (const cls of SWITCHABLE_CLASSES) if (modes[cls] !== controlModesIndex(shared, cls)) setControlMode(shared, cls, modes[cls]);
  shared.config = { ...shared.config, modes: { ...modes } };
  return clone;
}

function controlModesIndex(shared: SharedDatabase, cls: SwitchableClass): ModeIndex {
  return Atomics.load(new Int32Array(shared.ctl), MODE_WORD[cls]) as ModeIndex;
}

/** Opens a connection in this thread onto a database opened elsewhere. */
export function connect(shared: SharedDatabase, options?: ConnectionOptions): Connection {
  return new Connection(shared, options);
}
