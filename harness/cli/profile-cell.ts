// `shadowbench profile` profiles exactly one cell: one variant, workload, backend,
// concurrency level and mode set. A profile of several cells would blend
// them into one picture with nothing to tell them apart, and picking one
// silently (c1 or c8? legacy or new?) would give a picture the user did not
// ask for; so a wider selection is refused with the flags that narrow it
// and a command line that would run.

import type { Cell } from '../plan/matrix.ts';
import type { RunSettings } from '../run/settings.ts';
import { UsageError } from './verb.ts';

interface Dimension {
  flag: string;
  meta: string;
  values: string[];
}

const distinct = (xs: readonly string[]): string[] => [...new Set(xs)];

/** The one planned cell, or a UsageError naming the flags to add and a command that would work. */
export function oneCell(s: RunSettings, tool: string, runArgs: readonly string[]): Cell {
  const cells = s.groups.flatMap((g) => g.cells);
  if (cells.length === 1) return cells[0]!;
  const dims: Dimension[] = [
    { flag: '--variant', meta: 'V', values: distinct(cells.map((c) => c.variant)) },
    { flag: '--workload', meta: 'NAME', values: distinct(cells.map((c) => c.workload.spec.name)) },
    { flag: '--backend', meta: 'B', values: distinct(cells.map((c) => c.backend)) },
    { flag: '--concurrency', meta: 'N', values: distinct(cells.map((c) => String(c.concurrency))) },
    { flag: '--modes', meta: 'SET', values: distinct(cells.map((c) => c.modeSet.label)) },
  ].filter((d) => d.values.length > 1);
  const narrowed = new Set(dims.map((d) => d.flag));
  // Keep the user's other run arguments; replace the ones that selected too much.
  const kept = runArgs.filter((a) => !narrowed.has(a.split('=')[0]!));
  const example = [...kept, ...dims.map((d) => `${d.flag}=${d.values[0]}`)];
  const width = Math.max(...dims.map((d) => `${d.flag} ${d.meta}`.length));
  throw new UsageError(
    [
      `shadowbench profile: the run arguments select ${cells.length} cells; profile runs exactly one. Add:`,
      ...dims.map((d) => `  ${`${d.flag} ${d.meta}`.padEnd(width)}  one of: ${d.values.join(', ')}`),
      `e.g. shadowbench profile --tool ${tool} -- ${example.join(' ')}`,
      `(see 'shadowbench profile --help')`,
    ].join('\n'),
  );
}
