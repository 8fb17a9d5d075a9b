// A spec's operation mix: the mix a cell actually runs, which kind is the
// busiest (its median latency is what decides a comparison) and its share of
// the operations.

import { OP_KINDS, type OpKind, type WorkloadSpec } from './schema.ts';

type Mix = Readonly<Partial<Record<string, number | undefined>>>;

/**
 * The mix a cell of `connections` connections runs: alone, a connection's
 * wait for another's commit can only sleep out its timeout, so a
 * one-connection cell drops its waits. With them, mixed-read-write memory c1
 * spent 93% of its wall time asleep (4,951 ops/s against 71,961 without),
 * and every operation after a sleep ran on a cold core: median snapshot
 * allocation 571 ns against 110, which alone made M6's "5% of commit time"
 * fire on unchanged code.
 */
export const mixAt = (mix: WorkloadSpec['mix'], connections: number): WorkloadSpec['mix'] => (connections > 1 || mix.wait === 0 ? mix : { ...mix, wait: 0 });

const weightsOf = (mix: Mix): number[] => Object.values(mix).filter((w): w is number => w !== undefined && w > 0);

/** The busiest kind's share of a spec's operation mix (1 for a single kind). */
export function busiestShare(mix: Mix): number {
  const weights = weightsOf(mix);
  const total = weights.reduce((s, w) => s + w, 0);
  return total > 0 ? Math.max(...weights) / total : 1;
}

/** The kind with the largest weight in the mix (the first of OP_KINDS on a tie). */
export function busiestKindOf(mix: Mix): OpKind {
  let best: OpKind = OP_KINDS[0];
  for (const k of OP_KINDS) if ((mix[k] ?? 0) > (mix[best] ?? 0)) best = k;
  return best;
}
