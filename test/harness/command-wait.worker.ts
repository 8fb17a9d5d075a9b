// Worker for command-wait.test.ts: a connection waiting for commands as the
// pool's worker does; it acknowledges each and reports every SEQ it woke with.

import { parentPort, workerData } from 'node:worker_threads';
import { nextCommand } from '../../harness/pool/task.ts';

const { control, ack, commands } = workerData as { control: SharedArrayBuffer; ack: SharedArrayBuffer; commands: number };
const ctl = new Int32Array(control);
const acked = new Int32Array(ack);
const seen: (number | null)[] = [];
let seq = 0;
for (let i = 0; i < commands; i++) {
  const next = nextCommand(ctl, seq, 5000);
  seen.push(next);
  if (next === null) break;
  seq = next;
  Atomics.store(acked, 0, seq);
}
// Nothing more comes: the wait ends at its timeout.
seen.push(nextCommand(ctl, seq, 200));
parentPort!.postMessage(seen);
