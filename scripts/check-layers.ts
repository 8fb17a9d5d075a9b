// The layering docs/architecture.md describes, checked by `npm test`
// (`npm run lint:deps`). dependency-cruiser 17 reads TypeScript only through
// TypeScript < 7's compiler API, and this project is on TypeScript 7, so the
// same rules are checked here over the import statements themselves.
//
// harness/ folders are ordered from the bottom up: a folder may import the
// ones below it and none above, which also rules out cycles between folders.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** harness/ folders, lowest first. */
export const LAYERS = [
  'shared', // canonical JSON, tables, number formats, the seeded generator
  'spec', // workload specs and their validation
  'record', // field rows → histograms and counters, figure names
  'ops', // operation streams and traces
  'results', // the run record, summaries, run folders
  'cards', // decision cards, trigger rules, the live evaluator
  'engines', // engine adapters: reference, SQLite, external
  'plan', // the matrix of cells and groups
  'runtime', // process-level helpers: worker bootstrap, GC, scheduler statistics
  'pool', // the worker side of a run
  'telemetry', // spans, Prometheus metrics
  'gate', // comparisons, verdicts, gate reports
  'store', // the results store
  'output', // the first screen, summary tables, gate report files
  'nightly', // the nightly judgement and its reports
  'profile', // clinic sessions
  'run', // a whole run: groups, rounds, the run record
  'cli', // the verbs
  'bench', // the benchmarks (entry points, like cli)
] as const;

/** Packages the engine must never load: it reports through plain rows. */
const TELEMETRY = ['@opentelemetry/', 'prom-client', 'hdr-histogram-js', 'piscina'];

export interface Violation {
  rule: string;
  from: string;
  to: string;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Module specifiers a source file imports or re-exports (static and literal dynamic ones). */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
    .matchAll(IMPORT))
    out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

const layerOf = (path: string): number => (path.startsWith('harness/') ? LAYERS.indexOf(path.split('/')[1] as (typeof LAYERS)[number]) : -2);

/** Every rule broken by the given files (paths relative to the repository root → source). */
export function checkLayers(files: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  const edges = new Map<string, string[]>();
  for (const [from, source] of files) {
    const targets: string[] = [];
    for (const spec of importsOf(source)) {
      if (!spec.startsWith('.')) {
        if (from.startsWith('engine/') && TELEMETRY.some((t) => spec.startsWith(t))) out.push({ rule: 'engine-stands-alone', from, to: spec });
        continue;
      }
      const to = normalize(join(dirname(from), spec));
      targets.push(to);
      if (from.startsWith('engine/') && /^(harness|test|workloads|bin|scripts)\//.test(to)) out.push({ rule: 'engine-stands-alone', from, to });
      if (from.startsWith('harness/') && to.startsWith('engine/') && to !== 'engine/index.ts') out.push({ rule: 'engine-through-its-index', from, to });
      if (!from.startsWith('test/') && to.startsWith('test/')) out.push({ rule: 'tests-stay-in-test', from, to });
      const [lf, lt] = [layerOf(from), layerOf(to)];
      if (lf === -1) out.push({ rule: 'harness-folders-are-layers', from, to: `(harness/${from.split('/')[1]} is not in LAYERS)` });
      else if (lf >= 0 && lt > lf) out.push({ rule: `layer-${LAYERS[lf]}`, from, to });
    }
    edges.set(from, targets);
  }
  for (const cycle of cyclesOf(edges)) out.push({ rule: 'no-circular', from: cycle[0]!, to: cycle.slice(1).join(' → ') });
  return out;
}

/** One cycle per strongly connected component of more than one module (Tarjan). */
function cyclesOf(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push([...component.reverse(), component[0]!]);
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return out;
}

function sourcesUnder(root: string, dirs: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(root, dir))) {
      const path = join(dir, name);
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (/\.(ts|mjs|cjs|js)$/.test(name)) files.set(path, readFileSync(join(root, path), 'utf8'));
    }
  };
  for (const d of dirs) walk(d);
  return files;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const files = sourcesUnder(root, ['engine', 'harness', 'test', 'bin']);
  const violations = checkLayers(files);
  for (const v of violations) process.stderr.write(`error ${v.rule}: ${v.from} → ${v.to}\n`);
  process.stdout.write(
    violations.length === 0
      ? `layers: no violations (${files.size} files)\n`
      : `layers: ${violations.length} violation(s) in ${relative(process.cwd(), root) || '.'}; see docs/architecture.md\n`,
  );
  process.exitCode = violations.length === 0 ? 0 : 1;
}
