// A spec's operation mix: which kind is the busiest (its median latency is
// what decides a comparison) and its share of the operations.

import { OP_KINDS, type OpKind } from './schema.ts';

type Mix = Readonly<Partial<Record<string, number | undefined>>>;

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
