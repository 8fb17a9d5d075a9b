// The peer host: a thread that owns one cell's external engine process. It
// spawns the command, forwards each connection slot's request as one line
// with a fresh id, and routes every answer line back by id: to the slot that
// asked, or to the main thread. A peer that exits, or writes a line that is
// not an answer to a pending request, fails every request then and after,
// with a cause naming the command and what it did.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parentPort, workerData } from 'node:worker_threads';
import { PENDING, REQUEST, RESPONSE, Slot } from './channel.ts';
import { PEER_FAILED } from './protocol.ts';

export interface HostData {
  command: string;
  slots: SharedArrayBuffer[];
}

/** main → host */
export type HostRequest = { type: 'call'; ref: number; request: string } | { type: 'close' };
/** host → main */
export type HostMessage = { type: 'spawned'; pid: number } | { type: 'answer'; ref: number; line: string } | { type: 'closed' };

type Asker = { slot: number; op: string } | { ref: number; op: string };

const STDERR_TAIL = 1000;
/** How long a closing peer gets to exit on its own after its stdin ends. */
const EXIT_GRACE_MS = 1000;

const port = parentPort!;
const { command, slots: buffers } = workerData as HostData;
const slots = buffers.map((b) => new Slot(b));
const peer = spawn(command, { shell: true, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
const pending = new Map<number, Asker>();
let nextId = 1;
let failure: string | null = null;
let closing = false;
let stderrTail = '';

const opOf = (request: string): string => /"op":"([a-z_]+)"/.exec(request)?.[1] ?? '?';
const whoAsked = (a: Asker): string => ('slot' in a ? `${a.op} (connection ${a.slot})` : a.op);
const failedAnswer = (id: number, why: string): string => JSON.stringify({ id, ok: false, error: PEER_FAILED, message: why });

function answer(a: Asker, line: string): void {
  if ('slot' in a) slots[a.slot]!.put(line, RESPONSE);
  else port.postMessage({ type: 'answer', ref: a.ref, line } satisfies HostMessage);
}

function killPeer(): void {
  try {
    process.kill(-peer.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

function fail(what: string): void {
  if (failure !== null) return;
  const busy = [...pending.values()].map(whoAsked);
  const tail = stderrTail.trim();
  failure = `external engine \`${command}\` ${what}${busy.length > 0 ? ` while answering ${busy.join(', ')}` : ''}${tail === '' ? '' : `; its stderr ends: ${tail.slice(-300)}`}`;
  for (const [id, a] of pending) answer(a, failedAnswer(id, failure));
  pending.clear();
  killPeer();
}

function send(request: string, asker: Asker): void {
  const id = nextId++;
  if (failure !== null) return answer(asker, failedAnswer(id, failure));
  pending.set(id, asker);
  peer.stdin.write(`{"id":${id},${request.slice(1)}\n`);
}

peer.stderr.on('data', (d: Buffer) => {
  stderrTail = (stderrTail + d.toString('utf8')).slice(-STDERR_TAIL);
});
peer.stdin.on('error', () => {}); // EPIPE when the peer is gone: its exit says why
peer.on('error', (err) => fail(`could not be started: ${err.message}`));
peer.on('exit', (code, signal) => {
  if (!closing || pending.size > 0) fail(code !== null ? `exited with code ${code}` : `was killed by ${signal}`);
});
if (peer.pid !== undefined) port.postMessage({ type: 'spawned', pid: peer.pid } satisfies HostMessage);

createInterface({ input: peer.stdout }).on('line', (line) => {
  if (failure !== null) return;
  let id: unknown;
  let ok: unknown;
  try {
    ({ id, ok } = JSON.parse(line) as { id?: unknown; ok?: unknown });
  } catch {
    // not JSON
  }
  const asker = typeof id === 'number' ? pending.get(id) : undefined;
  if (asker === undefined || typeof ok !== 'boolean') return fail(`wrote garbage: ${JSON.stringify(line.slice(0, 120))} is not an answer to a pending request`);
  pending.delete(id as number);
  answer(asker, line);
});

/** Atomics.waitAsync (Node 16+; the ES2024 lib this project does not target). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

async function serve(i: number): Promise<void> {
  const s = slots[i]!;
  for (;;) {
    const state = s.state;
    if (state === REQUEST) {
      const request = s.take();
      s.set(PENDING);
      send(request, { slot: i, op: opOf(request) });
      continue;
    }
    const w = waitAsync(s.words, 0, state);
    if (w.async) await w.value;
  }
}
slots.forEach((_, i) => void serve(i));

port.on('message', (m: HostRequest) => {
  if (m.type === 'call') return send(m.request, { ref: m.ref, op: opOf(m.request) });
  closing = true;
  peer.stdin.end();
  const done = (): void => {
    port.postMessage({ type: 'closed' } satisfies HostMessage);
  };
  if (peer.exitCode !== null || peer.signalCode !== null) return done();
  const timer = setTimeout(() => {
    killPeer();
    done();
  }, EXIT_GRACE_MS);
  peer.once('exit', () => {
    clearTimeout(timer);
    done();
  });
});
