// How long a group's slices and chunks are: operations per connection and
// slice from a measured rate, and the chunks an interleaved round cuts each
// arm's slice into.

/**
 * Operations per connection and slice: enough for `sliceMs` at `opsPerS`
 * (per connection), at least one. There is no floor of the deciding kind's
 * operations any more: interleaved rounds pair chunk by chunk, and
 * mixed-read-write memory c1's A/A per-round sd was 0.025 with 350 ms slices
 * (raised to 1,000 reads) and 0.025 with 100 ms ones (12 s instead of 25 s).
 */
export const sliceOps = (opsPerS: number, sliceMs: number): number => Math.max(1, Math.round(opsPerS * (sliceMs / 1000)));

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
