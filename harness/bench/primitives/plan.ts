// What the primitives bench measures: one Measure per (class, mode, op
// family); each is run at every thread count, several times, interleaved
// across its modes. A Measure yields one or more table rows.

import { NEW_MODE, type MetadataClass, type ModeIndex, type SwitchableClass } from '../../../engine/index.ts';
import type { OpKind } from './protocol.ts';

/** Which figure of a run a row reports. */
export type Metric =
  | 'op' // mean over threads of (time in the op / op count)
  | 'write' // the write txns mixed into a read op: total time / count
  | 'wait' // median ns per waitForCommit
  | 'lag'; // median ns from the start of the commit to the waiter's wake-up

export interface RowSpec {
  op: string;
  metric: Metric;
}

export interface Measure {
  /** Measures of one group run interleaved (A B C A B C) and are compared with each other. */
  group: string;
  cls: MetadataClass;
  /** A control mode for M1/M6/M11; `fast` / `slow` for a keep-local class's two paths. */
  mode: string;
  kind: OpKind;
  backend: 'memory' | 'file';
  modes: Partial<Record<SwitchableClass, ModeIndex>>;
  readsPerWrite: number;
  /** Thread counts this measure runs at (a subset of the bench's). */
  threads: (t: number) => boolean;
  rows: RowSpec[];
}

const MODE_NAMES = (cls: SwitchableClass): [string, ModeIndex][] => [
  ['legacy', 0],
  ['shadow_compare', 1],
  [NEW_MODE[cls], 2],
];
const any = (): boolean => true;

function switchable(cls: SwitchableClass, group: string, kind: OpKind, rows: RowSpec[], extra: Partial<Measure> = {}): Measure[] {
  return MODE_NAMES(cls).map(([mode, index]) => ({
    group,
    cls,
    mode,
    kind,
    backend: 'memory',
    modes: { [cls]: index },
    readsPerWrite: 0,
    threads: any,
    rows,
    ...extra,
  }));
}

function keepLocal(cls: MetadataClass, group: string, fast: [OpKind, string], slow: [OpKind, string], extra: Partial<Measure> = {}): Measure[] {
  const base = { group, cls, backend: 'memory' as const, modes: {}, readsPerWrite: 0, threads: any, ...extra };
  return [
    { ...base, mode: 'fast', kind: fast[0], rows: [{ op: fast[1], metric: 'op' }] },
    { ...base, mode: 'slow', kind: slow[0], rows: [{ op: slow[1], metric: 'op' }] },
  ];
}

export const MEASURES: readonly Measure[] = [
  ...switchable(
    'M6',
    'M6 read',
    'm6-read',
    [
      { op: 'read txn begin+rollback (M6 bind+release)', metric: 'op' },
      { op: 'write txn, 1 UPDATE (every 16th op; M6 publish)', metric: 'write' },
    ],
    { readsPerWrite: 15 },
  ),
  ...switchable('M6', 'M6 file commit', 'txn-commit', [{ op: "begin('concurrent')+UPDATE+commit, file fsync=off", metric: 'op' }], { backend: 'file' }),
  ...switchable('M1', 'M1 read', 'm1-read', [{ op: 'visibleCommitSeq() seqlock read (1 commit / 64)', metric: 'op' }], { readsPerWrite: 63 }),
  ...switchable(
    'M1',
    'M1 wait',
    'm1-wait',
    [
      { op: 'waitForCommit(next seq), commit every 50us', metric: 'wait' },
      { op: 'wake lag: commit start -> waiter awake', metric: 'lag' },
    ],
    { threads: (t) => t >= 2 },
  ),
  ...switchable('M11', 'M11 registry', 'm11-alternating', [{ op: 'begin(concurrent|write alternating)+UPDATE+commit', metric: 'op' }]),
  ...keepLocal('M4', 'M4', ['m4-reuse', 'read txn begin+commit, parked snapshot reused'], ['m6-read', 'read txn begin+rollback, fresh M6 bind']),
  ...keepLocal('M5', 'M5', ['m5-reuse', 'autocommit UPDATE, retained write txn reused'], ['m11-alternating', 'write txn, kinds alternate: fresh begin'], {
    threads: (t) => t === 1,
  }),
  ...keepLocal('M12', 'M12', ['m12-hit', "exec('SELECT balance FROM ?'): cache hit"], ['m12-miss', 'exec over 256 texts (LRU 128): parse+compile miss']),
];

export const NOTES: readonly string[] = [
  'ns/op = time a thread spent in the op / ops it ran, mean over threads; median of the runs. Each thread is a worker_thread with its own connection on one shared database, writing only its own page.',
  'Runs of one group are interleaved across modes (A B C A B C), each on a fresh database (memory backend unless the op says file).',
  'M6 read: rollback ends the read txn without parking it for M4 reuse, so every begin binds M6; each thread runs a 1-UPDATE write txn after every 15 reads (timed apart, second row).',
  "M11: on memory M5 retains a write txn's session across commits; alternating the begin kind (concurrent, write) defeats retention, so every op goes through m11.begin, m11.lookup (at commit) and m11.end (of the previous session).",
  'M6 file commit: the file backend never retains (M5 is :memory: only), so each op also runs m11.begin/lookup/end in legacy M11; the WAL auto-checkpoints every 1000 frames.',
  'M1 wait: thread 0 commits every 50us; the other threads each wait for the next commit sequence (not run at 1 thread). Wake lag is measured from the start of the commit, so it includes the commit itself.',
  "Keep-local classes (per connection): fast path vs slow path. M5 is measured at 1 thread only (other threads' commits invalidate its retained txn). M2, M3, M9, M10 run inside every exec/begin above; M7, M8 inside the file commit.",
  'A write that fails with a retryable error (busy, write_conflict) is retried after a backoff of 5us * 2^attempt (capped at 1 ms), like a client would; the op time includes it and the retry counts are reported per row.',
  'This machine may have fewer cores than the largest thread count: contended figures then include time-slicing.',
  'SQLite comparator: not measured; it will be added with the comparator engine.',
];
