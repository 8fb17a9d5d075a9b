// How each card field is recorded: latency-like and value-like fields go to
// HDR histograms, booleans and enums to counters. The table is fixed, so the
// set of histograms and counters a worker keeps is bounded by construction.

import type { MetadataClass } from '../../engine/index.ts';

/** A numeric field, recorded only from the operations where the card gives it meaning (all when absent). */
export interface NumericField {
  field: string;
  operations?: readonly string[];
}

/** Fields measured in ns (histogram per class and field). */
export const LATENCY_FIELDS: Partial<Record<MetadataClass, readonly NumericField[]>> = {
  M1: [{ field: 'wait_ns', operations: ['wait'] }],
  M6: [{ field: 'alloc_ns', operations: ['publish'] }],
  M7: [{ field: 'refresh_ns', operations: ['refresh'] }],
  M10: [{ field: 'reset_ns', operations: ['reuse'] }],
  M11: [{ field: 'lock_wait_ns' }],
};

/** Count-like numeric fields: a histogram of their distribution and a running sum (latency fields keep a sum too). */
export const VALUE_FIELDS: Partial<Record<MetadataClass, readonly NumericField[]>> = {
  M1: [
    { field: 'read_retry_count', operations: ['read', 'wait'] },
    { field: 'poll_spins', operations: ['wait'] },
  ],
  M2: [{ field: 'read_retry_count' }],
  M4: [{ field: 'snapshot_age_statements' }],
  M6: [{ field: 'snapshot_age_commits', operations: ['read', 'shadow_compare'] }],
  M11: [{ field: 'active_sessions_in_shard' }],
  M12: [{ field: 'cache_size' }],
};

/** Boolean fields: counted as `<class>.<field>.true|false`. */
export const FLAG_FIELDS: Partial<Record<MetadataClass, readonly string[]>> = {
  M1: ['torn'],
  M2: ['is_memory'],
  M3: ['reprepare_triggered'],
  M4: ['cookie_match', 'cache_hit'],
  M5: ['cookie_match', 'cache_hit'],
  M7: ['rebuild_required'],
  M8: ['salts_changed'],
  M9: ['stale_detected'],
  M10: ['cache_hit'],
  M11: ['session_not_found'],
};

/** Enum fields: counted as `<class>.<field>.<value>` (from the listed operations only, when given). `operation` is counted for every class. */
export const ENUM_FIELDS: Partial<Record<MetadataClass, readonly NumericField[]>> = {
  M1: [{ field: 'control_mode' }, { field: 'shadow_verdict' }],
  M6: [{ field: 'control_mode' }, { field: 'shadow_verdict' }],
  M9: [{ field: 'refresh_reason' }],
  // Sessions per shard: counted at begin, so a long-lived session weighs once.
  M11: [{ field: 'control_mode' }, { field: 'shadow_verdict' }, { field: 'shard_id', operations: ['begin'] }],
};

/** Histogram ranges: values are clamped into [0, max]. */
export const LATENCY_MAX_NS = 60e9;
export const VALUE_MAX = 1e9;
