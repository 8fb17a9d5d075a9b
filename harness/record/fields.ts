// How each card field is recorded: latency-like and value-like fields go to
// HDR histograms, booleans and enums to counters. The table is fixed, so the
// set of histograms and counters a worker keeps is bounded by construction.

import type { MetadataClass } from '../../engine/index.ts';

/** Fields measured in ns (histogram per class and field). */
export const LATENCY_FIELDS: Partial<Record<MetadataClass, readonly string[]>> = {
  M1: ['wait_ns'],
  M6: ['alloc_ns'],
  M7: ['refresh_ns'],
  M10: ['reset_ns'],
  M11: ['lock_wait_ns'],
};

/** Count-like numeric fields: a histogram of their distribution and a running sum. */
export const VALUE_FIELDS: Partial<Record<MetadataClass, readonly string[]>> = {
  M1: ['read_retry_count', 'poll_spins'],
  M2: ['read_retry_count'],
  M4: ['snapshot_age_statements'],
  M6: ['snapshot_age_commits'],
  M11: ['active_sessions_in_shard'],
  M12: ['cache_size'],
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

/** Enum fields: counted as `<class>.<field>.<value>`. `operation` is counted for every class. */
export const ENUM_FIELDS: Partial<Record<MetadataClass, readonly string[]>> = {
  M1: ['control_mode', 'shadow_verdict'],
  M6: ['control_mode', 'shadow_verdict'],
  M9: ['refresh_reason'],
  M11: ['control_mode', 'shadow_verdict'],
};

/** Histogram ranges: values are clamped into [1, max]. */
export const LATENCY_MAX_NS = 60e9;
export const VALUE_MAX = 1e9;
