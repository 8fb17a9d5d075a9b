// The connections' wait for the next command (nextCommand), in a real worker
// thread: a notify that comes after the connection already ran its command
// (the main thread lost the core between storing SEQ and notifying) must not
// run that command again.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { controlBytes, SLICE } from '../../harness/pool/task.ts';
import { runWorkers } from '../support/workers.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let waited = 0; !ok(); waited += 5) {
    if (waited > 5000) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('a late notify does not run the last command twice; a wait with no command ends at its timeout', async () => {
  const control = new SharedArrayBuffer(controlBytes(1));
  const ack = new SharedArrayBuffer(4);
  const ctl = new Int32Array(control);
  const acked = new Int32Array(ack);
  const run = runWorkers<(number | null)[]>(new URL('./command-wait.worker.ts', import.meta.url), 1, { control, ack, commands: 2 });
  // Command 1, seen by the worker before any notify.
  Atomics.store(ctl, SLICE.SEQ, 1);
  await until('command 1 acknowledged', () => Atomics.load(acked, 0) === 1);
  // Its notify, late: the worker is waiting for command 2 by now.
  await sleep(50);
  Atomics.notify(ctl, SLICE.SEQ);
  await sleep(100);
  assert.is(Atomics.load(acked, 0), 1, 'the late notify ran nothing');
  Atomics.store(ctl, SLICE.SEQ, 2);
  Atomics.notify(ctl, SLICE.SEQ);
  const { results, errors } = await run;
  assert.equal(errors, []);
  assert.equal(results, [[1, 2, null]]);
});

test.run();
