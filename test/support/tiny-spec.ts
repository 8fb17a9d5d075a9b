// The small workload most harness tests run: every switchable class touched,
// reads and commuting concurrent writes on a zipfian key set (the final state
// is a function of the operations alone), a short run.

import type { WorkloadInput } from '../../harness/spec/schema.ts';

export const tinySpec = (name: string, o: Partial<WorkloadInput> = {}): WorkloadInput => ({
  name,
  description: `${name} test`,
  serves: { classes: ['M6', 'M11', 'M1'], verification: [`${name} test`] },
  backends: ['memory'],
  concurrency: [2],
  engine: { pageSize: 4096, pageCount: 256, fsync: 'normal', versionsPerPage: 8 },
  fixture: { rows: 128, initial_balance: 1000 },
  mix: { read: 2, concurrent_write: 1 },
  transaction: { statements: 3, max_retries: 500 },
  keys: { distribution: 'zipfian', theta: 0.9 },
  run: { operations: 200 },
  warmup: { operations: 20 },
  ...o,
});
