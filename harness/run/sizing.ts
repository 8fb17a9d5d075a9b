// How long a group's slices and chunks are: operations per connection and
// slice from a measured rate, at least a floor of the deciding kind's
// operations, and the chunks an interleaved round cuts each arm's slice into.

/**
 * The fewest operations of the busiest kind (the gate's deciding metric is
 * its median) a calibrated slice holds, over all connections. Slow cells
 * need it: commutative-inserts file c4's 100 ms slices held ~100 operations
 * per connection, and its A/A per-round sd of the chunk-paired median was
 * 0.06-0.14 (two runs, three arms); with the floor (250 per connection,
 * 12% more wall time) 0.05-0.08. Fast cells never reach it; mixed-read-write
 * memory c1 (2 ms waits) measured 0.025 either way.
 */
export const MIN_DECIDING_OPS = 1000;

/**
 * Operations per connection and slice: enough for `sliceMs` at `opsPerS`
 * (per connection), and at least `floorOps` of the busiest kind (its share
 * of the mix `share`) over the `connections`.
 */
export function sliceOps(opsPerS: number, sliceMs: number, share: number, connections: number, floorOps = MIN_DECIDING_OPS): { ops: number; floored: boolean } {
  const timed = Math.max(1, Math.round(opsPerS * (sliceMs / 1000)));
  const floor = Math.ceil(floorOps / (share * connections));
  return timed >= floor ? { ops: timed, floored: false } : { ops: floor, floored: true };
}

/**
 * An interleaved round's chunks last about this long. The machine's speed
 * holds over a few milliseconds (a pure-CPU loop varies by ~0.5% per 20 ms)
 * but changes by up to 1.7x within a second: 100 ms slices of two identical
 * arms one after the other measured a per-round sd of the median's log ratio
 * of 0.13 (hot-page-contention memory c1, this VM); the same operations in
 * 5 ms chunks taking turns, 0.005.
 */
export const CHUNK_MS = 5;
/** A chunk holds at least this many operations of the busiest kind per connection, so its median is one. */
export const MIN_CHUNK_DECIDING_OPS = 10;
/** More chunks than this per arm add barrier waits and nothing else. */
const MAX_CHUNKS = 100;

/** How many chunks an arm's slice of `ops` operations per connection, lasting about `sliceWallMs`, is cut into. */
export function chunksOf(ops: number, sliceWallMs: number, share: number): number {
  const byTime = Math.round(sliceWallMs / CHUNK_MS);
  const byCount = Math.floor((ops * share) / MIN_CHUNK_DECIDING_OPS);
  return Math.max(1, Math.min(MAX_CHUNKS, byTime, byCount));
}
