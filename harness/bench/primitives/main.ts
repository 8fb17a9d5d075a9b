// `npm run bench:primitives [-- --quick] [-- --json]`: ns per operation of each
// metadata class's primitive, per control mode, at 1, 2 and 4 threads (real
// worker threads, one connection each, one shared database). A benchmark,
// not a test: it reports figures and never asserts on them.

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { stableJson } from '../../shared/json.ts';
import { MEASURES, NOTES } from './plan.ts';
import { BenchPool } from './pool.ts';
import { buildRatios, buildRows, renderText, type Report } from './report.ts';
import { runPlan, type Settings } from './run.ts';

const USAGE = `Usage: npm run bench:primitives -- [options]

Options:
  --quick          short windows and 3 runs (about 20 s instead of about 45 s)
  --json           print the report as one JSON object on stdout
  --only LIST      comma-separated classes or groups to run (e.g. M6,M1)
  --runs N         runs per cell (median reported; default 5, quick 3)
  --window-ms N    measured window per run (default 100, quick 20)
  --warmup-ms N    warm-up per run (default 20, quick 10)
  --threads LIST   thread counts (default 1,2,4)
  -h, --help       show this help
Progress goes to stderr.
`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got '${raw}'`);
  return n;
}

function parse(argv: string[]): { settings: Settings & { quick: boolean }; json: boolean; only: string[] | null } | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      json: { type: 'boolean' },
      only: { type: 'string' },
      runs: { type: 'string' },
      'window-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      threads: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return null;
  const quick = values.quick === true;
  const threads = (values.threads ?? '1,2,4').split(',').map((t) => positiveInt('threads', t, 1));
  const windowMs = positiveInt('window-ms', values['window-ms'], quick ? 20 : 100);
  return {
    settings: {
      quick,
      threads,
      windowMs,
      runs: positiveInt('runs', values.runs, quick ? 3 : 5),
      warmupMs: positiveInt('warmup-ms', values['warmup-ms'], quick ? 10 : 20),
      intervalUs: 50,
      waits: Math.max(50, Math.round((windowMs * 1000) / 50)),
    },
    json: values.json === true,
    only:
      values.only === undefined
        ? null
        : values.only
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
  };
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`bench:primitives: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === null) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { settings, json, only } = parsed;
  const measures = only === null ? MEASURES : MEASURES.filter((m) => only.includes(m.cls) || only.includes(m.group));
  if (measures.length === 0) {
    process.stderr.write(`bench:primitives: --only ${only?.join(',') ?? ''} matches nothing (classes: M1, M4, M5, M6, M11, M12)\n`);
    return 2;
  }
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  log(
    `bench:primitives: ${measures.length} measures x threads ${settings.threads.join('/')} x ${settings.runs} runs; SQLite comparator: not yet (comes with the comparator engine)`,
  );
  const pool = new BenchPool(Math.max(...settings.threads));
  let report: Report;
  try {
    const collected = await runPlan(pool, measures, settings, log);
    const rows = buildRows(collected, settings.threads);
    report = {
      schema: 'shadowbench.bench.primitives/1',
      settings,
      machine: { cpus: availableParallelism(), node: process.versions.node, platform: `${process.platform}-${process.arch}` },
      rows,
      ratios: buildRatios(rows, measures, settings.threads),
      notes: [...NOTES],
    };
  } finally {
    await pool.close();
  }
  process.stdout.write(json ? `${stableJson(report)}\n` : renderText(report));
  const failed = report.rows.some((r) => r.errors.length > 0);
  if (failed) log('bench:primitives: some threads failed with a non-retryable engine error (listed under "Retries / errors"); figures exclude them');
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
