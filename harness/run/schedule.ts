// The order of a group's arms inside each round. A fixed order is a bias
// (the first arm of every round measured 7-8% slow on these machines), so
// rounds follow a Williams design: over each block of rounds every arm runs
// in every position equally often and follows every other arm equally often,
// which balances both position and carry-over. Arm labels are shuffled per
// block from the run's seed, so the design is not the same for every group.

import { Xorshift32 } from '../shared/random.ts';

/** The rows of a Williams design for k treatments: k rows for even k, 2k for odd k. */
export function williamsRows(k: number): number[][] {
  if (k < 1) return [];
  const first: number[] = [0];
  for (let i = 1, lo = 1, hi = k - 1; i < k; i++) first.push(i % 2 === 1 ? lo++ : hi--);
  const rows = Array.from({ length: k }, (_, r) => first.map((a) => (a + r) % k));
  return k % 2 === 0 ? rows : [...rows, ...rows.map((row) => [...row].reverse())];
}

/**
 * Arm order (indexes) of rounds 1..n of a group: whole Williams blocks, each
 * with arms relabelled by a seeded shuffle. Rounds past the last whole block
 * continue the next block, so any prefix stays as balanced as it can be.
 */
export function armOrder(arms: number, rounds: number, seed: number, group: string): number[][] {
  const rng = new Xorshift32(seedOf(seed, group));
  const block = williamsRows(arms);
  const out: number[][] = [];
  while (out.length < rounds) {
    const label = shuffle([...Array(arms).keys()], rng);
    for (const row of block) {
      if (out.length === rounds) break;
      out.push(row.map((a) => label[a]!));
    }
  }
  return out;
}

/** How often each arm ran in each position, and each ordered pair followed each other: [position][arm], [before][after]. */
export function balanceOf(orders: readonly number[][], arms: number): { positions: number[][]; followers: number[][] } {
  const positions = Array.from({ length: arms }, () => new Array<number>(arms).fill(0));
  const followers = Array.from({ length: arms }, () => new Array<number>(arms).fill(0));
  for (const order of orders) {
    order.forEach((arm, pos) => {
      positions[pos]![arm]!++;
      if (pos > 0) followers[order[pos - 1]!]![arm]!++;
    });
  }
  return { positions, followers };
}

function shuffle<T>(xs: T[], rng: Xorshift32): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.nextU32() % (i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

function seedOf(seed: number, group: string): number {
  let h = (seed * 0x9e3779b1) | 0;
  for (let i = 0; i < group.length; i++) h = Math.imul(h ^ group.charCodeAt(i), 0x01000193);
  return h | 0 || 1;
}
