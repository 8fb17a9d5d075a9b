// What a CLI verb is, and the argument parsing every verb shares. Each verb
// lives in its own file in harness/cli/ and is registered in main.ts's table.

import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Where a verb writes: stdout for results, stderr for diagnostics. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface Verb {
  name: string;
  /** One line for the global usage listing. */
  summary: string;
  /** The verb's full usage text (printed by `shadowbench <verb> --help`). */
  usage: string;
  /** The options its parser accepts (besides --help); test/harness/cli-help.test.ts holds `usage` to them. */
  options: OptionsConfig;
  /** True when it also accepts every `run` option, which its usage leaves to 'shadowbench run --help'. */
  runOptions?: boolean;
  /** Runs with the arguments after the verb; resolves to the exit code. */
  run(argv: readonly string[], io: Io): Promise<number>;
}

/** Exit code for a command line that could not be understood. */
export const EXIT_USAGE = 2;

/**
 * Exit code of gate, compare and nightly when a deciding comparison could
 * not see a change of the threshold size and nothing regressed: CI fails
 * closed on a blind verdict unless --accept-inconclusive is given.
 */
export const EXIT_INCONCLUSIVE = 3;

/** A bad command line: main prints the message on stderr and exits with EXIT_USAGE. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/**
 * Parses a verb's arguments strictly (unknown flags, missing values and
 * unexpected positionals are UsageErrors naming the offending argument).
 * Every verb accepts `--help`/`-h`.
 */
export function parseVerbArgs<const O extends OptionsConfig>(verb: string, argv: readonly string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: [...argv], options: { ...options, ...HELP }, strict: true, allowPositionals });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(`shadowbench ${verb}: ${message} (see 'shadowbench ${verb} --help')`);
  }
}
