// Runs a TypeScript module in N real worker threads and collects what each
// posts back. Workers load TypeScript through tsx, like the harness's pool.

import { Worker } from 'node:worker_threads';

const BOOTSTRAP = new URL('../../harness/runtime/ts-worker.mjs', import.meta.url);

export interface WorkerRun<R> {
  results: R[];
  errors: Error[];
}

/**
 * Starts `count` workers on `script` (a file URL), each with
 * `{ ...data, index }` as workerData, and resolves when all have exited.
 * A worker reports by posting one message; a thrown error is collected.
 */
export async function runWorkers<R>(script: URL, count: number, data: Record<string, unknown>): Promise<WorkerRun<R>> {
  const results: R[] = [];
  const errors: Error[] = [];
  await Promise.all(
    Array.from(
      { length: count },
      (_, index) =>
        new Promise<void>((resolve) => {
          const w = new Worker(BOOTSTRAP, { workerData: { ...data, index, __script: script.href } });
          w.on('message', (m: R) => results.push(m));
          w.on('error', (e) => errors.push(e));
          w.on('exit', () => resolve());
        }),
    ),
  );
  return { results, errors };
}
