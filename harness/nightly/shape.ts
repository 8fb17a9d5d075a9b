// The nightly's shape: the quick canonical suite with enough interleaved
// rounds for an exact rank test to reach significance after Holm (with five
// rounds a side the smallest two-sided p is 2/252 = 0.008, above the Holm
// level of a family of seven metrics; six give 2/924 = 0.002), and
// duration-bound cells capped so the whole suite, with its warm-up round,
// takes under three minutes on two cores (2 min 43 s measured).

export const NIGHTLY_SHAPE = { defaultRounds: 12, sliceMs: 100 } as const;

/** Nights of history judged for change points. */
export const DEFAULT_HISTORY_NIGHTS = 30;

export const DEFAULT_BASELINE_NAME = 'nightly';

/** Nights of history before a regression against the baseline can fail a night (the noise must be known first). */
export const DEFAULT_NOISE_NIGHTS = 5;
