// The small workload the telemetry tests run: every switchable class
// touched, reads and concurrent writes on a zipfian key set, a short run.

import type { WorkloadInput } from '../../harness/spec/schema.ts';

export const telemetrySpec = (name: string, run_duration_ms: number): WorkloadInput => ({
  name, description: `${name} test`, serves: { classes: ['M6', 'M11', 'M1'], verification: [`${name} test`] },
  backends: ['memory'], concurrency: [2], engine: { pageSize: 4096, pageCount: 256, fsync: 'normal', versionsPerPage: 8 },
  fixture: { rows: 128, initial_balance: 1000 }, mix: { read: 2, concurrent_write: 1 }, transaction: { statements: 3, max_retries: 500 },
  keys: { distribution: 'zipfian', theta: 0.9 }, run: { duration_ms: run_duration_ms }, warmup: { operations: 20 },
});
