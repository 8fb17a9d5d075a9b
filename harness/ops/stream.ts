// The operation stream of one connection: a deterministic function of the
// workload, the seed and the connection index, so every engine and mode is
// driven by exactly the same operations. Ops are small number tuples, which
// is also their trace encoding.

import { Xorshift32 } from '../shared/random.ts';
import { mixAt } from '../spec/mix.ts';
import { OP_KINDS, type OpKind, type WorkloadSpec } from '../spec/schema.ts';
import { keyChooser } from './keys.ts';

export interface Op {
  kind: OpKind;
  /** Row keys (read/write kinds: one per statement; prepare: one). */
  keys: number[];
  /** Increment per key for write kinds. */
  deltas: number[];
}

/** `next()` returns null where a replayed stream ends a phase (warm-up, then measured). */
export interface OpStream {
  next(): Op | null;
}

export function streamSeed(seed: number, workload: string, index: number): number {
  let h = seed | 0;
  for (let i = 0; i < workload.length; i++) h = Math.imul(h ^ workload.charCodeAt(i), 0x01000193);
  return (h ^ Math.imul(index + 1, 0x9e3779b1)) | 0 || 1;
}

export function opStream(spec: WorkloadSpec, seed: number, index: number, connections: number): OpStream {
  const rng = new Xorshift32(streamSeed(seed, spec.name, index));
  const choose = keyChooser(spec.keys, spec.fixture.rows, index, connections, rng);
  const mix = mixAt(spec.mix, connections);
  const weights = OP_KINDS.map((k) => mix[k]);
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) throw new Error(`${spec.name}: at ${connections} connection(s) the mix has no operation left (a one-connection cell drops its waits)`);
  const statements = spec.transaction.statements;
  return {
    next(): Op {
      let r = rng.next() * total;
      let i = 0;
      while (i < weights.length - 1 && r >= weights[i]!) r -= weights[i++]!;
      const kind = OP_KINDS[i]!;
      const n = kind === 'read' || kind === 'write' || kind === 'concurrent_write' ? statements : kind === 'prepare' ? 1 : 0;
      const keys: number[] = [];
      const deltas: number[] = [];
      for (let s = 0; s < n; s++) {
        keys.push(choose());
        deltas.push(kind === 'write' || kind === 'concurrent_write' ? 1 + (rng.nextU32() % 9) : 0);
      }
      return { kind, keys, deltas };
    },
  };
}
