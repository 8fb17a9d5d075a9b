// The shared-memory layout of one database. Every thread that opens a
// connection receives the same SharedArrayBuffers (they are structured-clone
// friendly) and indexes them with the constants below.

import type { DatabaseConfig } from '../config.ts';

/** Control words: modes, the writer lock, connection slots and read horizons. */
export const CTL = {
  MODE_M1: 0,
  MODE_M6: 1,
  MODE_M11: 2,
  /** M6 fallback keeps publishing snapshots for diagnostics while in legacy. */
  M6_DIAGNOSTICS: 3,
  WRITER_LOCK: 4,
  /** Bumped on every mode change, so a connection can tell one happened. */
  MODE_EPOCH: 5,
  SESSION_SEQ: 6,
  SLOTS: 16,
} as const;

/** M6: the committed-state mutex, the authoritative inner state, and the snapshot ring. */
export const M6 = {
  MUTEX: 0,
  COMMIT_SEQ: 1,
  DB_SIZE: 2,
  FREELIST_COUNT: 3,
  SCHEMA_COOKIE: 4,
  SCHEMA_GENERATION: 5,
  GENERATION: 6,
  RING_CURRENT: 8,
  RING: 16,
  RING_STRIDE: 8,
} as const;
/** Offsets inside one ring slot. A refcount of -1 marks a slot under construction. */
export const SNAP = {
  REFCOUNT: 0,
  GENERATION: 1,
  VISIBLE_COMMIT_SEQ: 2,
  DB_SIZE: 3,
  FREELIST_COUNT: 4,
  SCHEMA_COOKIE: 5,
  SCHEMA_GENERATION: 6,
  /** The authoritative commit sequence when this snapshot was published (differs from VISIBLE only when stale). */
  PUBLISHED_AT_SEQ: 7,
} as const;

/** M1: the seqlock summary. */
export const M1 = {
  SEQ: 0,
  PUBLISH_LOCK: 1,
  WAITERS: 2,
  SEQUENCE_VALUE: 4,
  DB_SIZE: 5,
  SCHEMA_COOKIE: 6,
  CHECKPOINT_SEQ: 7,
  /** A check word over the payload, so a torn combination is detectable. */
  CHECK: 8,
  WORDS: 16,
} as const;

/** M11: table 0 is the legacy global registry; tables 1..shards are the shards. */
export const REG = {
  TABLES: 16,
  MUTEX: 0,
  COUNT: 1,
  HEADER: 2,
  ENTRY: 3,
  /** Offsets inside an entry. session_id 0 marks a free entry. */
  SESSION_ID: 0,
  SLOT: 1,
  SNAPSHOT_SEQ: 2,
} as const;

/** WAL index shared by all handles of a file database (the -shm of SQLite). */
export const WALX = {
  MX_FRAME: 0,
  CHECKPOINT_SEQ: 1,
  SALT1: 2,
  SALT2: 3,
  CKSUM1: 4,
  CKSUM2: 5,
  /** Seqlock over the words above: odd while a writer changes the index or restarts the WAL. */
  SEQ: 6,
  DIRTY: 16,
} as const;

export const NO_HORIZON = -1;
export const EMPTY_VERSION = -1;

export interface SharedDatabase {
  config: DatabaseConfig;
  ctl: SharedArrayBuffer;
  m6: SharedArrayBuffer;
  m1: SharedArrayBuffer;
  registry: SharedArrayBuffer;
  pageLocks: SharedArrayBuffer;
  versions: SharedArrayBuffer;
  pages: SharedArrayBuffer;
  wal: SharedArrayBuffer;
}

const I32 = Int32Array.BYTES_PER_ELEMENT;

export const ringSize = (c: DatabaseConfig): number => c.maxConnections + 2;
export const registryTableWords = (c: DatabaseConfig): number => REG.HEADER + c.maxConnections * REG.ENTRY;
export const horizonIndex = (c: DatabaseConfig, slot: number): number => CTL.SLOTS + c.maxConnections + slot;

export function allocateShared(config: DatabaseConfig): SharedDatabase {
  const sab = (words: number): SharedArrayBuffer => new SharedArrayBuffer(words * I32);
  const shared: SharedDatabase = {
    config,
    ctl: sab(CTL.SLOTS + 2 * config.maxConnections),
    m6: sab(M6.RING + ringSize(config) * M6.RING_STRIDE),
    m1: sab(M1.WORDS),
    registry: sab(REG.TABLES + (config.registryShards + 1) * registryTableWords(config)),
    pageLocks: sab(config.pageCount),
    versions: sab(config.pageCount * config.versionsPerPage),
    pages: new SharedArrayBuffer(config.pageCount * config.versionsPerPage * config.pageSize),
    wal: sab(WALX.DIRTY + Math.ceil(config.pageCount / 32)),
  };
  const ctl = new Int32Array(shared.ctl);
  ctl[CTL.MODE_M1] = config.modes.M1;
  ctl[CTL.MODE_M6] = config.modes.M6;
  ctl[CTL.MODE_M11] = config.modes.M11;
  ctl.fill(NO_HORIZON, CTL.SLOTS + config.maxConnections);
  new Int32Array(shared.versions).fill(EMPTY_VERSION);
  return shared;
}
