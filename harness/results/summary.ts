// The figures of a run (summary.json): per cell its throughput, the
// percentiles of every histogram and its counters, and the engines side by
// side. One zod schema each: the types, and the check summary.json passes
// when read back.

import { z } from 'zod';

/** Percentiles of one HDR histogram (ns for latencies, units for counts). */
export const HistogramSummary = z.object({
  count: z.number().nonnegative(),
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
  p999: z.number(),
  max: z.number(),
  mean: z.number(),
});

export const CellSummary = z.object({
  id: z.string().min(1),
  throughput_ops_s: z.number(),
  histograms: z.record(z.string(), HistogramSummary),
  counters: z.record(z.string(), z.number()),
});

export const EngineFigures = z.object({
  /** `reference/<mode set>`, or the comparator variant. */
  label: z.string(),
  throughput_ops_s: z.number(),
  /** p99 latency of the busiest operation kind, ns (null: no successful operation). */
  p99_ns: z.number().nullable(),
  status: z.enum(['ok', 'failed']),
});

/** One workload, backend and concurrency that more than one engine variant ran. */
export const EngineComparison = z.object({
  workload: z.string(),
  backend: z.string(),
  concurrency: z.int(),
  reference: z.array(EngineFigures),
  /** The usable reference mode with the highest throughput (null: none usable). */
  best: EngineFigures.nullable(),
  comparators: z.array(EngineFigures.extend({
    /** Reference best mode's throughput / the comparator's: above 1, the reference engine is faster. */
    throughput_ratio: z.number().nullable(),
    /** Reference best mode's p99 / the comparator's: below 1, the reference engine's tail is shorter. */
    p99_ratio: z.number().nullable(),
  })),
});

export const RunSummary = z.object({
  run_id: z.string().min(1),
  cells: z.array(CellSummary),
  // Runs from before engine variants have none: one engine ran, so nothing was side by side.
  engine_comparison: z.array(EngineComparison).default([]),
});

export type HistogramSummary = z.infer<typeof HistogramSummary>;
export type CellSummary = z.infer<typeof CellSummary>;
export type EngineFigures = z.infer<typeof EngineFigures>;
export type EngineComparison = z.infer<typeof EngineComparison>;
export type RunSummary = z.infer<typeof RunSummary>;
