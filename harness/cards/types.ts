// A decision card as data. Reports, dashboards and the live evaluator quote
// these definitions, so the cards' wording lives in one place (cards.ts).

import type { MetadataClass } from '../../engine/index.ts';

/** What the live evaluator sees of one window: merged counters of the window and of the round so far. */
export interface Evidence {
  /** Counter deltas of this window (all connections that reported in it). */
  window: ReadonlyMap<string, number>;
  /** Counters of every window so far, this one included. */
  total: ReadonlyMap<string, number>;
  /**
   * This rule's own running figures in this evaluator, kept across its windows
   * (sums a rule estimates its uncertainty from): bounded, however long the run.
   */
  memo: Map<string, number>;
  /** The round the window belongs to: a round's windows (one per connection) are one observation of a ratio. */
  round: number;
}

/** One observation of a trigger: whether it fired in this window, and the numbers behind it. */
export interface Observation {
  fired: boolean;
  /** The measured value and the threshold it was compared against, for the audit event. */
  value: number;
  threshold: number;
  detail: string;
}

/**
 * How many observations fire the kill switch: `latch` on the first, or `k`
 * observations within the last `n` operations of the class's workload.
 */
export type KillSwitchProfile = { kind: 'latch' } | { kind: 'k_of_n'; k: number; n: number };

export interface TriggerRule {
  /** Stable id, e.g. `M6.shadow_mismatch`. */
  id: string;
  /** The card's own wording of the trigger. */
  wording: string;
  /** Default threshold (the card's value where it gives one). */
  threshold: number;
  profile: KillSwitchProfile;
  /** Evaluated on every window delta; `threshold` is the configured one. */
  observe(e: Evidence, threshold: number): Observation;
}

export interface Requirement {
  line: string;
  workload: string;
  backend?: 'memory' | 'file';
  concurrency?: number;
  /** A requirement this harness cannot exercise on one machine (cross-node topology). */
  cross_node?: boolean;
}

export interface DecisionCard {
  metadata_class: MetadataClass;
  title: string;
  current_primitive: string;
  selected_primitive: string;
  /** `switchable` classes have legacy / shadow_compare / the new mode; `keep_local` classes have none. */
  kind: 'switchable' | 'keep_local';
  control_modes: readonly string[];
  ev_score: number;
  relevance: string;
  /** Triggers the live evaluator checks on every window. */
  triggers: readonly TriggerRule[];
  /** Triggers that need the whole run and its baseline (judged by the gate after the run). */
  post_run_triggers: readonly string[];
  /** What a fired trigger does. Keep-local classes only alert: there is nothing to switch. */
  fallback_action: string;
  baseline_comparator: string;
  promotion_criteria: readonly string[];
  symptom: string;
  diagnostic_cues: readonly string[];
  /** Shadow-compare fields that may legitimately differ between oracle and candidate (timing counters). */
  allowed_differences: readonly string[];
  /** The workloads (spec names) the card's E2E verification names. */
  workloads: readonly string[];
  /** The cells the card's E2E and topology lines require; the gate lists those a run did not exercise. */
  requirements: readonly Requirement[];
  /** Counters whose contract is zero: judged as exact counts, never by a rank test. */
  zero_contracts: readonly string[];
  rollback_recipe: readonly string[];
}
