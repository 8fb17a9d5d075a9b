// A full collection on demand, in any thread, without the --expose-gc flag.
// A cell database lives in SharedArrayBuffers that every thread which saw
// them keeps alive until its own heap is collected; an idle pool thread never
// collects, so finished rounds' databases pile up. Collecting when a round
// ends frees them, and also starts the next measured phase with a clean
// heap rather than a collection due in the middle of it.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;

export function collectGarbage(): void {
  gc();
}

/** A young-generation collection only (a scavenge: well under a millisecond). */
export function collectYoung(): void {
  gc({ type: 'minor' });
}
