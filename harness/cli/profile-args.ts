// The command line of the profiled `run`, rebuilt from its parsed options.
// The run starts in the profile folder (clinic and its tools write scratch
// files into the working directory), so relative paths are made absolute
// here, and options are spelled --name=value so no value reads as a flag.

import { resolve } from 'node:path';
import type { LoadedSpec } from '../spec/load.ts';
import { RUN_OPTIONS, type RunValues } from './run-args.ts';

/** Every option given, in RUN_OPTIONS order; `omit` drops some (profile sets them itself). */
export function runArgv(values: RunValues, omit: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const [name, opt] of Object.entries(RUN_OPTIONS)) {
    if (omit.includes(name)) continue;
    const v = values[name as keyof typeof RUN_OPTIONS];
    if (v === undefined || v === false) continue;
    if (opt.type === 'boolean') out.push(`--${name}`);
    else for (const item of Array.isArray(v) ? v : [v]) out.push(`--${name}=${String(item)}`);
  }
  return out;
}

/**
 * The profiled run's arguments: as given, but canonical workloads by name
 * and spec files by absolute path, and --out as the absolute `outDir`.
 */
export function childRunArgs(values: RunValues, workloads: readonly LoadedSpec[], outDir: string, quiet: boolean): string[] {
  const names = values.workload ?? [];
  const workloadArgs = names.map((n, i) => {
    const w = workloads[i];
    return `--workload=${w !== undefined && n === w.spec.name ? n : resolve(w?.file ?? n)}`;
  });
  return [...workloadArgs, ...runArgv(values, ['workload', 'out', 'quiet']), `--out=${outDir}`, ...(quiet || values.quiet === true ? ['--quiet'] : [])];
}
