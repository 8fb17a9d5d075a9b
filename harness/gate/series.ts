// The per-round figures a cell offers for comparison: throughput, and p50
// and p99 of each operation kind, over its rounds that did not fail. Each
// value keeps its round number, so cells of one interleaved run pair up
// round by round even when a kind is missing from some round.

import type { CellFigures } from '../results/record.ts';

export interface Series {
  better: 'higher' | 'lower';
  values: number[];
  /** The round each value came from. */
  rounds: number[];
}

export function metricsOf(c: CellFigures): Map<string, Series> {
  const ok = c.rounds.filter((r) => r.failures.length === 0);
  const out = new Map<string, Series>([['throughput_ops_s', { better: 'higher', values: ok.map((r) => r.throughput_ops_s), rounds: ok.map((r) => r.round) }]]);
  const kinds = new Set(ok.flatMap((r) => Object.keys(r.latency_ns)));
  for (const k of kinds) {
    for (const p of ['p50', 'p99'] as const) {
      const has = ok.filter((r) => r.latency_ns[k]?.[p] !== undefined);
      out.set(`${k}.latency_${p}_ns`, { better: 'lower', values: has.map((r) => r.latency_ns[k]![p]), rounds: has.map((r) => r.round) });
    }
  }
  return out;
}

/**
 * The metric that decides a verdict: median latency, the steadiest figure
 * that still carries what a concurrency primitive changes (an operation's
 * latency includes the time it waited on a lock). Measured on paired A/A
 * slices of commutative-inserts memory c1 (30 pairs, fresh databases every
 * round): per-pair sd of the log ratio 0.03-0.05 for p50, 0.04-0.05 for CPU
 * per operation (which misses lock waits), 0.08-0.17 for throughput, which
 * carries every stall and every run-queue wait of a busy machine. Throughput
 * and tail percentiles are reported beside, each family on its own, and never
 * decide (an A/A night once rolled back M1 and M6 on one c4 cell's read p99).
 */
export const isDeciding = (metric: string): boolean => metric.endsWith('.latency_p50_ns');

/** The operation kind with the most operations over the cell's rounds that did not fail. */
export function busiestKind(c: CellFigures): string | undefined {
  const kinds = new Map<string, number>();
  for (const r of c.rounds.filter((x) => x.failures.length === 0))
    for (const [k, s] of Object.entries(r.latency_ns)) kinds.set(k, (kinds.get(k) ?? 0) + s.count);
  return [...kinds].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** The values of the rounds both series have, in round order: pairs for a paired test. */
export function aligned(a: Series, b: Series): [number[], number[]] {
  const other = new Map(b.rounds.map((r, i) => [r, b.values[i]!]));
  const pairs = a.rounds.flatMap((r, i) => (other.has(r) ? [[a.values[i]!, other.get(r)!] as const] : []));
  return [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
}

/** Baseline and candidate values of one metric: paired by round for cells of one run, else all of each. */
export const valuesToCompare = (a: Series, b: Series, sameRun: boolean): [number[], number[]] => (sameRun ? aligned(a, b) : [a.values, b.values]);
