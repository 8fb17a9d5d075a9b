// The decision cards' vocabulary: metadata classes, control modes and the
// required logging fields, verbatim. Everything else in the project (spans,
// metric labels, reports) takes its names from here.

export const METADATA_CLASSES = ['M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M7', 'M8', 'M9', 'M10', 'M11', 'M12'] as const;
export type MetadataClass = (typeof METADATA_CLASSES)[number];

/** The classes that have a new primitive and therefore three control modes. */
export const SWITCHABLE_CLASSES = ['M1', 'M6', 'M11'] as const;
export type SwitchableClass = (typeof SWITCHABLE_CLASSES)[number];

/** Each switchable class's new primitive, named as its card names the mode. */
export const NEW_MODE = { M6: 'snapshot', M1: 'polling', M11: 'sharded' } as const;
export type NewMode<C extends SwitchableClass> = (typeof NEW_MODE)[C];
export type ControlModeOf<C extends SwitchableClass> = 'legacy' | 'shadow_compare' | NewMode<C>;
export type ControlMode = ControlModeOf<SwitchableClass>;

/** Per-class mode index as stored in shared memory. */
export const MODE_INDEX = { legacy: 0, shadow_compare: 1, new: 2 } as const;
export type ModeIndex = 0 | 1 | 2;

export function modeName<C extends SwitchableClass>(cls: C, index: ModeIndex): ControlModeOf<C> {
  if (index === 0) return 'legacy';
  if (index === 1) return 'shadow_compare';
  return NEW_MODE[cls];
}

export function isSwitchable(cls: MetadataClass): cls is SwitchableClass {
  return cls === 'M1' || cls === 'M6' || cls === 'M11';
}

/** `none` when the operation ran without a shadow comparison. `inconclusive`
 * when the two paths legitimately observed different publications (a commit
 * landed between them), so no verdict on the primitive can be drawn. */
export type ShadowVerdict = 'none' | 'match' | 'diverged' | 'inconclusive';

interface RecordBase<C extends MetadataClass> {
  metadata_class: C;
  trace_id: string;
  /** Wall-clock bounds of the operation, in ns since the Unix epoch. */
  start_ns: number;
  end_ns: number;
}

export interface M1Record extends RecordBase<'M1'> {
  operation: 'publish' | 'read' | 'wait';
  sequence_value: number;
  read_retry_count: number;
  poll_spins: number;
  wait_ns: number;
  control_mode: ControlModeOf<'M1'>;
  shadow_verdict: ShadowVerdict;
  /** Not a card field: set when a seqlock read returned fields of two publications. */
  torn?: boolean;
}

export interface M2Record extends RecordBase<'M2'> {
  operation: 'bind';
  visible_commit_seq: number;
  read_retry_count: number;
  statement_id: number;
  is_memory: boolean;
}

export interface M3Record extends RecordBase<'M3'> {
  operation: 'check' | 'invalidate';
  schema_cookie: number;
  schema_generation: number;
  reprepare_triggered: boolean;
}

export interface M4Record extends RecordBase<'M4'> {
  operation: 'park' | 'reuse' | 'invalidate';
  cookie_match: boolean;
  snapshot_age_statements: number;
  cache_hit: boolean;
}

export interface M5Record extends RecordBase<'M5'> {
  operation: 'park' | 'reuse' | 'invalidate';
  is_memory: boolean;
  cookie_match: boolean;
  cache_hit: boolean;
}

export interface M6Record extends RecordBase<'M6'> {
  operation: 'publish' | 'read' | 'shadow_compare';
  snapshot_generation: number;
  visible_commit_seq: number;
  db_size: number;
  freelist_count: number;
  alloc_ns: number;
  snapshot_age_commits: number;
  control_mode: ControlModeOf<'M6'>;
  shadow_verdict: ShadowVerdict;
  /** Not a card field: the mismatching fields of a diverged comparison, both sides. */
  diverged_fields?: FieldDiff[];
}

export interface M7Record extends RecordBase<'M7'> {
  operation: 'refresh' | 'append';
  frame_count: number;
  checkpoint_seq: number;
  refresh_ns: number;
  rebuild_required: boolean;
}

export interface M8Record extends RecordBase<'M8'> {
  operation: 'compare' | 'refresh';
  checkpoint_seq: number;
  salts_changed: boolean;
}

export interface M9Record extends RecordBase<'M9'> {
  operation: 'check' | 'refresh';
  visible_commit_seq: number;
  stale_detected: boolean;
  refresh_reason: 'none' | 'initial' | 'remote_commit' | 'schema_change';
}

export interface M10Record extends RecordBase<'M10'> {
  operation: 'reuse' | 'rebuild' | 'invalidate';
  schema_generation: number;
  cache_hit: boolean;
  reset_ns: number;
}

export interface M11Record extends RecordBase<'M11'> {
  operation: 'begin' | 'commit' | 'abort' | 'lookup';
  session_id: number;
  shard_id: number;
  lock_wait_ns: number;
  active_sessions_in_shard: number;
  control_mode: ControlModeOf<'M11'>;
  shadow_verdict: ShadowVerdict;
  /** Not a card field: the lookup did not find the session where it was routed. */
  session_not_found?: boolean;
}

export interface M12Record extends RecordBase<'M12'> {
  operation: 'parse_hit' | 'parse_miss' | 'compile_hit' | 'compile_miss' | 'invalidate';
  schema_cookie: number;
  schema_generation: number;
  cache_size: number;
  lane_id: number;
}

export interface FieldDiff {
  field: string;
  oracle: number | string | boolean;
  candidate: number | string | boolean;
}

export interface RecordByClass {
  M1: M1Record;
  M2: M2Record;
  M3: M3Record;
  M4: M4Record;
  M5: M5Record;
  M6: M6Record;
  M7: M7Record;
  M8: M8Record;
  M9: M9Record;
  M10: M10Record;
  M11: M11Record;
  M12: M12Record;
}
export type FieldRecord = RecordByClass[MetadataClass];

/** The "Required logging fields" list of each card, in the card's order. */
export const REQUIRED_FIELDS = {
  M1: ['trace_id', 'metadata_class', 'operation', 'sequence_value', 'read_retry_count', 'poll_spins', 'wait_ns', 'control_mode', 'shadow_verdict'],
  M2: ['trace_id', 'metadata_class', 'operation', 'visible_commit_seq', 'read_retry_count', 'statement_id', 'is_memory'],
  M3: ['trace_id', 'metadata_class', 'schema_cookie', 'schema_generation', 'operation', 'reprepare_triggered'],
  M4: ['trace_id', 'metadata_class', 'operation', 'cookie_match', 'snapshot_age_statements', 'cache_hit'],
  M5: ['trace_id', 'metadata_class', 'operation', 'is_memory', 'cookie_match', 'cache_hit'],
  M6: [
    'trace_id',
    'metadata_class',
    'operation',
    'snapshot_generation',
    'visible_commit_seq',
    'db_size',
    'freelist_count',
    'alloc_ns',
    'snapshot_age_commits',
    'control_mode',
    'shadow_verdict',
  ],
  M7: ['trace_id', 'metadata_class', 'operation', 'frame_count', 'checkpoint_seq', 'refresh_ns', 'rebuild_required'],
  M8: ['trace_id', 'metadata_class', 'operation', 'checkpoint_seq', 'salts_changed'],
  M9: ['trace_id', 'metadata_class', 'operation', 'visible_commit_seq', 'stale_detected', 'refresh_reason'],
  M10: ['trace_id', 'metadata_class', 'operation', 'schema_generation', 'cache_hit', 'reset_ns'],
  M11: ['trace_id', 'metadata_class', 'operation', 'session_id', 'shard_id', 'lock_wait_ns', 'active_sessions_in_shard', 'control_mode', 'shadow_verdict'],
  M12: ['trace_id', 'metadata_class', 'operation', 'schema_cookie', 'schema_generation', 'cache_size', 'lane_id'],
} as const satisfies { [C in MetadataClass]: readonly (keyof RecordByClass[C])[] };

/** Card titles, for listings. */
export const CLASS_TITLE: { [C in MetadataClass]: string } = {
  M1: 'PublishedPagerState',
  M2: 'BoundPagerPublication',
  M3: 'schema cookie + generation',
  M4: 'cached read snapshot',
  M5: 'cached write txn (:memory:)',
  M6: 'PagerInner committed state',
  M7: 'WAL frame count + checksum state',
  M8: 'WAL generation identity',
  M9: 'MemDB visible commit seq gate',
  M10: 'cached VDBE engine',
  M11: 'concurrent registry + page-lock table',
  M12: 'parse cache + compiled statement cache',
};

/** Listener for field records. The engine builds records only when one is set. */
export type RecordHook = (record: FieldRecord) => void;
