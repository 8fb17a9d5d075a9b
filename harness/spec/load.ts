// Loads workload specs from JSON or YAML files. A bad spec is an error that
// names the file and every offending field path; the run does not start.

import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { workloadSpecSchema, type WorkloadSpec } from './schema.ts';

export const WORKLOADS_DIR = fileURLToPath(new URL('../../workloads/', import.meta.url));
const SPEC_EXTENSIONS = new Set(['.json', '.yaml', '.yml']);

export class SpecError extends Error {
  override readonly name = 'SpecError';
  constructor(
    readonly file: string,
    readonly problems: readonly { path: string; message: string }[],
  ) {
    super(`${file}: invalid workload spec\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
  }
}

export interface LoadedSpec {
  file: string;
  spec: WorkloadSpec;
}

function pathOf(issue: z.core.$ZodIssue): string {
  return issue.path.length === 0
    ? '(root)'
    : issue.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
        .join('.')
        .replace(/\.\[/g, '[');
}

/** Parses and validates spec text; `file` is only used in errors. */
export function parseSpec(text: string, file: string): WorkloadSpec {
  let data: unknown;
  try {
    data = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new SpecError(file, [{ path: '(file)', message: `not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}` }]);
  }
  const result = workloadSpecSchema.safeParse(data);
  if (!result.success)
    throw new SpecError(
      file,
      result.error.issues.map((i) => ({ path: pathOf(i), message: i.message })),
    );
  return result.data;
}

export function loadSpecFile(file: string): LoadedSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SpecError(file, [{ path: '(file)', message: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message }]);
  }
  const spec = parseSpec(text, file);
  const stem = basename(file, extname(file));
  if (spec.name !== stem) throw new SpecError(file, [{ path: 'name', message: `must match the file name "${stem}"` }]);
  return { file, spec };
}

/** Every spec of a directory (the canonical suite by default), sorted by name. */
export function loadSuite(dir: string = WORKLOADS_DIR): LoadedSpec[] {
  return readdirSync(dir)
    .filter((f) => SPEC_EXTENSIONS.has(extname(f)))
    .sort()
    .map((f) => loadSpecFile(join(dir, f)));
}

/** Resolves `--workload` values: a canonical name or a path to a spec file. */
export function resolveWorkloads(names: readonly string[], dir: string = WORKLOADS_DIR): LoadedSpec[] {
  if (names.length === 0) return loadSuite(dir);
  const suite = new Map(loadSuite(dir).map((s) => [s.spec.name, s]));
  return names.map((n) => {
    const known = suite.get(n);
    if (known !== undefined) return known;
    if (SPEC_EXTENSIONS.has(extname(n)) || existsSync(n)) return loadSpecFile(resolve(n));
    throw new SpecError(n, [{ path: '(workload)', message: `not a canonical workload (${[...suite.keys()].join(', ')}) nor a spec file` }]);
  });
}
