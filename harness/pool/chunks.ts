// The chunks of an interleaved round, on the worker's side: their order and
// sizes, and the barrier between them. Every connection of a group
// finishes its chunk of one arm before any starts the next arm's, so the
// connections contend on one arm's database at a time, as in a slice of
// that arm alone. Two words of the group's control buffer: arrivals, and a
// generation the last arrival advances, and the time it did (a Float64 after
// the words: the chunk's start for every connection). A connection that fails sets the
// abort word, so the others stop waiting for it.

import { SLICE } from './task.ts';

export class BarrierAbort extends Error {
  override readonly name = 'BarrierAbort';
}

/** The current time on a clock every thread shares (ms since the epoch): each thread's performance.now() has its own origin. */
export const sharedNow = (): number => performance.timeOrigin + performance.now();

/**
 * Waits until all `parties` connections arrive, and returns when the last
 * did (sharedNow): the chunk starts then for all of them, including one
 * the scheduler lets run only later. Throws BarrierAbort when a connection
 * failed, or when `timeoutMs` passes.
 */
export function arrive(ctl: Int32Array, release: Float64Array, parties: number, timeoutMs: number): number {
  if (parties <= 1) return sharedNow();
  const gen = Atomics.load(ctl, SLICE.BARRIER_GEN);
  if (Atomics.add(ctl, SLICE.BARRIER_COUNT, 1) === parties - 1) {
    const now = sharedNow();
    release[0] = now;
    Atomics.store(ctl, SLICE.BARRIER_COUNT, 0);
    // The generation's store publishes the release time to the waiters (Atomics order all accesses to the buffer).
    Atomics.add(ctl, SLICE.BARRIER_GEN, 1);
    Atomics.notify(ctl, SLICE.BARRIER_GEN);
    return now;
  }
  const deadline = performance.now() + timeoutMs;
  while (Atomics.load(ctl, SLICE.BARRIER_GEN) === gen) {
    if (Atomics.load(ctl, SLICE.ABORT) !== 0) throw new BarrierAbort('another connection failed during the round');
    const left = deadline - performance.now();
    if (left <= 0) throw new BarrierAbort(`the other connections did not finish their chunk within ${Math.round(timeoutMs / 1000)} s`);
    Atomics.wait(ctl, SLICE.BARRIER_GEN, gen, left);
  }
  if (Atomics.load(ctl, SLICE.ABORT) !== 0) throw new BarrierAbort('another connection failed during the round');
  return release[0]!;
}

/** A connection failed: wake the others at the barrier, and let them see why they stop. */
export function abortRound(ctl: Int32Array): void {
  Atomics.store(ctl, SLICE.ABORT, 1);
  Atomics.add(ctl, SLICE.BARRIER_GEN, 1);
  Atomics.notify(ctl, SLICE.BARRIER_GEN);
}

/** Before a round: no arrival counted, nothing aborted (the main thread, while every connection waits for a command). */
export function resetBarrier(ctl: Int32Array): void {
  Atomics.store(ctl, SLICE.BARRIER_COUNT, 0);
  Atomics.store(ctl, SLICE.ABORT, 0);
}

/**
 * The chunks of a round in time order, as [arm, chunk index]: the round's
 * order again and again (A B C A B C …), so every chunk runs after another
 * arm's. An A B B A order made the arms at its ends run twice in a row, and
 * a chunk right after its own arm's measured ~10% apart from one after a
 * switch: ±5% of position bias in every 4-arm round of commutative-inserts
 * memory c1 (A/A sd of a round 0.035-0.055 instead of 0.005-0.010).
 */
export function chunkSequence(order: readonly number[], chunks: number): [number, number][] {
  const out: [number, number][] = [];
  for (let j = 0; j < chunks; j++) for (const arm of order) out.push([arm, j]);
  return out;
}

/** The operations of chunk `j` of `chunks` when `ops` are cut into them: sizes differ by at most one, the same for every arm. */
export const chunkOps = (ops: number, chunks: number, j: number): number => Math.floor(((j + 1) * ops) / chunks) - Math.floor((j * ops) / chunks);
