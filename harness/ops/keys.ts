// Key choosers for the spec's distributions. Deterministic for a seed.

import { Xorshift32 } from '../shared/random.ts';
import type { KeySpec } from '../spec/schema.ts';

export type KeyChooser = () => number;

/**
 * Returns a chooser of row keys in [1, rows] for connection `index` of
 * `connections`. Keys are page numbers: page 0 holds the schema.
 */
export function keyChooser(spec: KeySpec, rows: number, index: number, connections: number, rng: Xorshift32): KeyChooser {
  switch (spec.distribution) {
    case 'uniform':
      return () => 1 + Math.floor(rng.next() * rows);
    case 'disjoint': {
      const width = Math.max(1, Math.floor(rows / connections));
      const base = 1 + (index % connections) * width;
      return () => base + Math.floor(rng.next() * width);
    }
    case 'hotset': {
      const hot = Math.min(rows, Math.max(1, Math.ceil(spec.hot_fraction * rows)));
      const cold = rows - hot;
      return () => (cold === 0 || rng.next() < spec.hot_probability ? 1 + Math.floor(rng.next() * hot) : 1 + hot + Math.floor(rng.next() * cold));
    }
    case 'zipfian':
      return zipfian(rows, spec.theta, rng);
  }
}

/** Gray et al.'s zipfian generator (as in YCSB): rank 1 is the hottest key. */
function zipfian(n: number, theta: number, rng: Xorshift32): KeyChooser {
  let zetan = 0;
  for (let i = 1; i <= n; i++) zetan += 1 / Math.pow(i, theta);
  const zeta2 = 1 + 1 / Math.pow(2, theta);
  const alpha = 1 / (1 - theta);
  const eta = (1 - Math.pow(2 / n, 1 - theta)) / (1 - zeta2 / zetan);
  return () => {
    const u = rng.next();
    const uz = u * zetan;
    if (uz < 1) return 1;
    if (uz < zeta2) return 2;
    return 1 + Math.min(n - 1, Math.floor(n * Math.pow(eta * u - eta + 1, alpha)));
  };
}
