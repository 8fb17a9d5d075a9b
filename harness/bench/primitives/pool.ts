// A fixed set of worker threads for the primitives bench, reused across every
// run (starting a TypeScript worker costs far more than one measured run).

import { Worker } from 'node:worker_threads';
import type { ResultMsg, TaskMsg } from './protocol.ts';

const BOOTSTRAP = new URL('../../runtime/ts-worker.mjs', import.meta.url);
const SCRIPT = new URL('./worker.ts', import.meta.url);

export class BenchPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (r: ResultMsg) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  constructor(size: number) {
    this.workers = Array.from({ length: size }, (_, index) => {
      const w = new Worker(BOOTSTRAP, { workerData: { __script: SCRIPT.href, index } });
      w.on('message', (m: ResultMsg) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(m);
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`bench worker ${index} exited with code ${code}`));
      });
      return w;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** Sends tasks[i] to worker i and resolves with every result. */
  run(tasks: readonly TaskMsg[]): Promise<ResultMsg[]> {
    if (tasks.length > this.workers.length) throw new Error(`${tasks.length} tasks for ${this.workers.length} workers`);
    if (this.failure !== null) return Promise.reject(this.failure);
    return Promise.all(
      tasks.map(
        (task, i) =>
          new Promise<ResultMsg>((resolve, reject) => {
            this.pending.set(task.id, { resolve, reject });
            this.workers[i]!.postMessage(task);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
