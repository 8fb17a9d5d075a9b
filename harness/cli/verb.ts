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

/**
 * Pads columns to a common width. Columns from `rightFrom` on are
 * right-aligned (numbers); otherwise the last column is left unpadded.
 */
export function formatTable(rows: readonly (readonly string[])[], opts: { gap?: number; rightFrom?: number } = {}): string {
  const gap = ' '.repeat(opts.gap ?? 2);
  const rightFrom = opts.rightFrom ?? Infinity;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const pad = (cell: string, i: number, last: boolean): string => {
    const w = widths[i] ?? 0;
    if (i >= rightFrom) return cell.padStart(w);
    return last ? cell : cell.padEnd(w);
  };
  return rows.map((row) => row.map((cell, i) => pad(cell, i, i === row.length - 1)).join(gap).trimEnd()).join('\n');
}

/** JSON with object keys sorted at every level (arrays keep their order), so output is stable. */
export function stableJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_key, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? sortKeys(v as Record<string, unknown>) : v), indent);
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}
