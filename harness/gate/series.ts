// The per-round figures a cell offers for comparison: throughput, and p50
// and p99 of each operation kind, over its rounds that did not fail. Each
// value keeps its round number, so cells of one interleaved run pair up
// round by round even when a kind is missing from some round. Throughput and
// the busiest kind's median also keep the round's chunks, where the arms
// took turns chunk by chunk: two arms' rounds then pair chunk by chunk.

import { median } from 'simple-statistics';
import { trimmedMean } from './mde.ts';
import type { RoundRecord } from '../results/record.ts';

/** A cell, or any rounds of one (a group's rounds so far). */
type RoundsOf = { readonly rounds: readonly RoundRecord[] };

export interface Series {
  better: 'higher' | 'lower';
  values: number[];
  /** The round each value came from. */
  rounds: number[];
  /** The same figure of each of the round's chunks (interleaved rounds), else null. */
  chunks: (readonly number[] | null)[];
}

/** A figure of every chunk of an interleaved round: throughput (∝ 1 / wall, every chunk the same operations) or the busiest kind's median. */
function chunkFigures(r: RoundRecord, metric: string): readonly number[] | null {
  const c = r.chunks;
  if (c === undefined) return null;
  if (metric === 'throughput_ops_s') return c.wall_ms.map((w) => (w > 0 ? 1000 / w : 0));
  return metric === `${c.kind}.latency_p50_ns` ? c.p50_ns : null;
}

function seriesOf(rounds: readonly RoundRecord[], metric: string, better: Series['better'], value: (r: RoundRecord) => number): Series {
  return { better, values: rounds.map(value), rounds: rounds.map((r) => r.round), chunks: rounds.map((r) => chunkFigures(r, metric)) };
}

export function metricsOf(c: RoundsOf): Map<string, Series> {
  const ok = c.rounds.filter((r) => r.failures.length === 0);
  const out = new Map<string, Series>([['throughput_ops_s', seriesOf(ok, 'throughput_ops_s', 'higher', (r) => r.throughput_ops_s)]]);
  const kinds = new Set(ok.flatMap((r) => Object.keys(r.latency_ns)));
  for (const k of kinds) {
    for (const p of ['p50', 'p99'] as const) {
      const metric = `${k}.latency_${p}_ns`;
      const has = ok.filter((r) => r.latency_ns[k]?.[p] !== undefined);
      out.set(
        metric,
        seriesOf(has, metric, 'lower', (r) => r.latency_ns[k]![p]),
      );
    }
  }
  return out;
}

/** The cell's yardstick readings (ns) by round, when every round that did not fail has one; else null. */
export function yardsticksOf(c: RoundsOf): Map<number, number> | null {
  const ok = c.rounds.filter((r) => r.failures.length === 0);
  if (ok.length === 0 || ok.some((r) => r.yardstick_ns == null)) return null;
  return new Map(ok.map((r) => [r.round, r.yardstick_ns!]));
}

/** The median yardstick reading of a cell (ns), or null (see yardsticksOf). */
export function yardstickLevel(c: RoundsOf): number | null {
  const y = yardsticksOf(c);
  return y === null ? null : median([...y.values()]);
}

/**
 * A cell's figures at one machine speed: every round's as if the yardstick
 * had taken `ref_ns` in it (a latency × ref / reading, a throughput × reading
 * / ref). Rounds of two runs then differ by the code, not by the speed the
 * machine had that night (see runtime/yardstick.ts). Null when the cell lacks
 * readings. Chunks are dropped: they pair arms within a run, which needs no
 * scaling.
 */
export function metricsAtSpeed(c: RoundsOf, ref_ns: number): Map<string, Series> | null {
  const y = yardsticksOf(c);
  if (y === null) return null;
  const out = new Map<string, Series>();
  for (const [metric, s] of metricsOf(c)) {
    const values = s.values.map((v, i) => {
      const f = ref_ns / y.get(s.rounds[i]!)!;
      return s.better === 'lower' ? v * f : v / f;
    });
    out.set(metric, { ...s, values, chunks: s.rounds.map(() => null) });
  }
  return out;
}

/**
 * The share of a round's chunk pairs cut from each end before their log
 * ratios are averaged: a pair that a change of the machine's speed fell
 * between, or one a collection paused, says nothing about the arms.
 */
export const CHUNK_TRIM = 0.2;

/** A round's log ratio from its chunks, ln(candidate / baseline) chunk by chunk, trimmed (CHUNK_TRIM); null when they do not pair. */
export function chunkLogRatio(base: readonly number[], cand: readonly number[]): number | null {
  if (base.length !== cand.length) return null;
  const d = base.flatMap((b, j) => (b > 0 && cand[j]! > 0 ? [Math.log(cand[j]! / b)] : []));
  return d.length === 0 ? null : trimmedMean(d, CHUNK_TRIM).mean;
}

/**
 * The paired log ratios of two series of one run, round by round (the rounds
 * both have): from the chunks where both rounds have them, else the rounds'
 * own values.
 */
export function pairLogRatios(a: Series, b: Series): number[] {
  const other = new Map(b.rounds.map((r, i) => [r, i]));
  return a.rounds.flatMap((r, i) => {
    const j = other.get(r);
    if (j === undefined) return [];
    const ca = a.chunks[i];
    const cb = b.chunks[j];
    const fromChunks = ca != null && cb != null ? chunkLogRatio(ca, cb) : null;
    if (fromChunks !== null) return [fromChunks];
    const va = a.values[i]!;
    const vb = b.values[j]!;
    return va > 0 && vb > 0 ? [Math.log(vb / va)] : [];
  });
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
export function busiestKind(c: RoundsOf): string | undefined {
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
