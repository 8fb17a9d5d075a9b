// The main thread's side of a peer host: starts the host thread, makes the
// cell-level calls (hello, open, state_hash, close) with a timeout, and makes
// sure the peer process is gone when the cell closes.

import { Worker } from 'node:worker_threads';
import type { HostData, HostMessage, HostRequest } from './host.ts';
import { PEER_FAILED } from './protocol.ts';

const BOOTSTRAP = new URL('../../runtime/ts-worker.mjs', import.meta.url);
const HOST = new URL('./host.ts', import.meta.url);

export class PeerError extends Error {
  override readonly name = 'PeerError';
}

export class PeerHost {
  private readonly worker: Worker;
  private readonly calls = new Map<number, { resolve: (line: string) => void; reject: (e: Error) => void }>();
  private nextRef = 1;
  private pid: number | null = null;
  private closed: Promise<void> | null = null;

  constructor(
    readonly command: string,
    slots: SharedArrayBuffer[],
    private readonly timeoutMs: number,
  ) {
    const data: HostData & { __script: string } = { command, slots, __script: HOST.href };
    this.worker = new Worker(BOOTSTRAP, { workerData: data });
    this.worker.on('message', (m: HostMessage) => {
      if (m.type === 'spawned') this.pid = m.pid;
      else if (m.type === 'answer') {
        const ref = m.ref;
        this.calls.get(ref)?.resolve(m.line);
        this.calls.delete(ref);
      }
    });
    this.worker.on('error', (err) => this.rejectAll(new PeerError(`external engine \`${command}\`: its host thread failed: ${err.message}`)));
  }

  /** One cell-level request; resolves with `result`, rejects with the peer's error or a timeout naming the command. */
  async call(op: string, body: Record<string, unknown> = {}, extraMs = 0): Promise<unknown> {
    const ref = this.nextRef++;
    const timeoutMs = this.timeoutMs + extraMs;
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(ref);
        reject(new PeerError(`external engine \`${this.command}\` did not answer ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.calls.set(ref, {
        resolve: (l) => (clearTimeout(timer), resolve(l)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.worker.postMessage({ type: 'call', ref, request: JSON.stringify({ op, ...body }) } satisfies HostRequest);
    });
    const a = JSON.parse(line) as { ok: boolean; result?: unknown; error?: string; message?: string };
    if (a.ok) return a.result;
    if (a.error === PEER_FAILED) throw new PeerError(a.message ?? 'external engine failed');
    throw new PeerError(`external engine \`${this.command}\` refused ${op}: ${a.error ?? '?'}${a.message === undefined ? '' : ` (${a.message})`}`);
  }

  /** Ends the peer (stdin closed, then killed after a grace) and the host thread. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        this.worker.on('message', (m: HostMessage) => {
          if (m.type === 'closed') (clearTimeout(timer), resolve());
        });
        this.worker.postMessage({ type: 'close' } satisfies HostRequest);
      });
      if (this.pid !== null) {
        try {
          process.kill(-this.pid, 'SIGKILL');
        } catch {
          // exited already
        }
      }
      await this.worker.terminate();
      this.rejectAll(new PeerError(`external engine \`${this.command}\`: closed`));
    })();
    return this.closed;
  }

  private rejectAll(e: Error): void {
    for (const c of this.calls.values()) c.reject(e);
    this.calls.clear();
  }
}
