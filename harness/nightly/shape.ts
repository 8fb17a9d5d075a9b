// The nightly's shape: the quick canonical suite, each group's mode sets
// as paired slices of 100 ms, 12 rounds (every comparison reports the
// minimum detectable effect this gives), trimmed to no fewer than 8 when the
// machine is too slow to run them in 165 s, and the night's families and
// their alphas.

import { DEFAULT_GATE, type GateOptions } from '../gate/options.ts';
import { DEFAULT_CHANGE_POINT, type ChangePointOptions } from './changepoint.ts';

// 165 s of run leave room inside the three minutes for the night's import and reports (3-6 s) and for the budget's
// overrun (the run took 130.6 s of a forced 125).
export const NIGHTLY_SHAPE = { defaultRounds: 12, sliceMs: 100, cardRequirements: true, maxTimeMs: 165_000, twin: true } as const;

/** Nights of history judged for change points. */
export const DEFAULT_HISTORY_NIGHTS = 30;

export const DEFAULT_BASELINE_NAME = 'nightly';

/** Nights of history before a regression against the baseline can fail a night (the noise must be known first). */
export const DEFAULT_NOISE_NIGHTS = 5;

/**
 * A night fails on a gate rollback, a regression against the baseline or a
 * change point for the worse: its false-alarm rate is at most the sum of the
 * three families' alphas, so the night's alpha (0.05) is split among them:
 * 0.02 for the gate's deciding comparisons and 0.02 for the baseline's (each
 * one Holm family over every deciding comparison of its kind, not per cell),
 * 0.01 for the change points of every deciding series (Bonferroni).
 */
export const NIGHT_ALPHA = 0.05;
export const NIGHT_GATE: GateOptions = { ...DEFAULT_GATE, alpha: 0.02 };
export const NIGHT_CHANGE_POINT: ChangePointOptions = { ...DEFAULT_CHANGE_POINT, alpha: 0.01 };
