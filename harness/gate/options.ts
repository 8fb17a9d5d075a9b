// What a comparison is held to. `alpha` is family-wise: the chance that any
// deciding comparison of one family (a gate run, a run comparison, one half
// of a night) is flagged when nothing changed.

export interface GateOptions {
  /** Family-wise significance level (Holm over the family's deciding comparisons). */
  alpha: number;
  /** Smallest relative change that counts: a comparison flags a change only when it lies beyond ±min_effect with confidence. */
  min_effect: number;
  /** The largest change a comparison may miss and still say no_change: a not-significant comparison whose MDE is above it is inconclusive. */
  max_mde: number;
  /** The power every MDE is given at. */
  power: number;
}

export const DEFAULT_GATE: GateOptions = { alpha: 0.05, min_effect: 0.02, max_mde: 0.1, power: 0.8 };
