// Helpers for the engine-adapter tests: a small deterministic workload, and
// the final state its op streams must reach, hashed the way the SQLite
// adapter (and the line-engine fixture) hash theirs.

import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { opStream } from '../../harness/ops/stream.ts';
import { loadSpecFile, type LoadedSpec } from '../../harness/spec/load.ts';
import type { WorkloadInput } from '../../harness/spec/schema.ts';

/** Every operation kind but DDL (whose column order depends on interleaving), counted, so the final state is a function of the ops. */
export function tinySpec(name: string, overrides: Partial<WorkloadInput> = {}): LoadedSpec {
  const w: WorkloadInput = {
    name,
    description: 'small deterministic workload for the engine adapter tests',
    serves: { classes: ['M6'], verification: ['engine adapter test'] },
    backends: ['memory', 'file'],
    concurrency: [2],
    engine: { pageSize: 4096, pageCount: 128, fsync: 'normal', versionsPerPage: 8 },
    fixture: { rows: 64, initial_balance: 1000 },
    mix: { read: 2, write: 1, concurrent_write: 1, prepare: 1, checkpoint: 0.1, wait: 0.2 },
    transaction: { statements: 3, max_retries: 1000 },
    keys: { distribution: 'zipfian', theta: 0.9 },
    run: { operations: 250 },
    warmup: { operations: 30 },
    wait_timeout_ms: 1,
    ...overrides,
  };
  const file = join(mkdtempSync(join(tmpdir(), 'sb-engines-')), `${name}.json`);
  writeFileSync(file, JSON.stringify(w));
  return loadSpecFile(file);
}

/** The state after every connection's warm-up and measured operations: `key,balance` rows in key order. */
/**
 * The state a group's last round leaves: fresh databases from the fixture,
 * then per connection a warm slice (a tenth of the spec's run count) and
 * the measured slice, from the start of the stream.
 */
export function expectedRowsHash(w: LoadedSpec, seed: number, connections: number): string {
  const { spec } = w;
  const balances = new Array<number>(spec.fixture.rows + 1).fill(spec.fixture.initial_balance);
  const total = Math.max(1, Math.round(spec.run.operations! / 10)) + spec.run.operations!;
  for (let c = 0; c < connections; c++) {
    const s = opStream(spec, seed, c, connections);
    for (let i = 0; i < total; i++) {
      const op = s.next()!;
      if (op.kind === 'write' || op.kind === 'concurrent_write') op.keys.forEach((k, j) => (balances[k] = balances[k]! + op.deltas[j]!));
    }
  }
  const h = createHash('sha256').update('key,balance\n');
  for (let k = 1; k <= spec.fixture.rows; k++) h.update(`${k},${balances[k]}\n`);
  return h.digest('hex');
}
