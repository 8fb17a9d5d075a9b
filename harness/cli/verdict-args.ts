// Flags the verdict verbs (gate, compare, nightly) share.

import { UsageError } from './verb.ts';

/** A fraction in (0, 1) given as `--name`, or `fallback` when absent. */
export function fractionArg(verb: string, name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new UsageError(`shadowbench ${verb}: --${name} must be a number in (0, 1), got '${v}'`);
  return n;
}
