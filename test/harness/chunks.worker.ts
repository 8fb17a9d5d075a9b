// Worker for chunks.test.ts: one party of the chunk barrier. Each chunk it
// bumps a shared counter, arrives, and checks every party had bumped it for
// this chunk before any left; it reports the release times it saw. The party
// `failing` names aborts the round at chunk `failAt` instead.

import { parentPort, workerData } from 'node:worker_threads';
import { abortRound, arrive, BarrierAbort } from '../../harness/pool/chunks.ts';
import { releaseClock } from '../../harness/pool/task.ts';

const { index, control, counter, parties, chunks, failing, failAt } = workerData as {
  index: number;
  control: SharedArrayBuffer;
  counter: SharedArrayBuffer;
  parties: number;
  chunks: number;
  failing: number;
  failAt: number;
};
const ctl = new Int32Array(control);
const release = releaseClock(control);
const count = new Int32Array(counter);
const releases: number[] = [];
let early = 0;
let aborted: string | null = null;
try {
  for (let j = 0; j < chunks; j++) {
    if (index === failing && j === failAt) {
      abortRound(ctl);
      break;
    }
    Atomics.add(count, 0, 1);
    releases.push(arrive(ctl, release, parties, 10_000));
    if (Atomics.load(count, 0) < parties * (j + 1)) early++;
  }
} catch (err) {
  aborted = err instanceof BarrierAbort ? err.message : `not a BarrierAbort: ${String(err)}`;
}
parentPort!.postMessage({ index, releases, early, aborted });
