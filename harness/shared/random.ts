// The harness's seeded generator: the engine's xorshift32, taken through the
// engine's public entry point, so operation streams, schedules and
// permutation tests are reproducible from a seed with one implementation.

export { Xorshift32 } from '../../engine/index.ts';
