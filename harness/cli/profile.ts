// `shadowbench profile --tool doctor|flame|bubbleprof -- <run arguments>`:
// runs one cell under clinic, headless, and leaves clinic's HTML report in
// that run's folder (<run-dir>/profile/). The run arguments are checked and
// planned here first, so bad input or a selection of more than one cell is
// refused before anything is profiled.

import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { oneCell } from './profile-cell.ts';
import { childRunArgs, runArgv } from './profile-args.ts';
import { isTool, TOOLS } from '../profile/clinic.ts';
import { PROFILED_ENV } from '../profile/other-threads.mjs';
import { profileSession, type Session } from '../profile/session.ts';
import { RESULTS_DIR, RUN_OPTIONS, parseRunSettings } from './run-args.ts';
import { runId } from '../run/execute.ts';
import { RUN_ID_ENV } from './run.ts';
import { UsageError, parseVerbArgs, type Io, type Verb } from './verb.ts';
import { stableJson } from '../shared/json.ts';

const OPTIONS = {
  tool: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

const LAUNCHER = fileURLToPath(new URL('../../bin/shadowbench.js', import.meta.url));

export const PROFILE_USAGE = `Usage: shadowbench profile [--tool doctor|flame|bubbleprof] [--json] [-q] -- <run arguments>

Runs ONE cell of 'shadowbench run' under clinic (13), headless (no browser,
no prompt, no TTY needed), and leaves clinic's HTML report in that run's
folder: <run-dir>/profile/<pid>.clinic-<tool>.html, beside clinic's data
(<pid>.clinic-<tool>/, which 'clinic <tool> --visualize-only' turns back into
HTML). The run folder is a normal run folder (run.json, summary.json, ...),
but its figures carry the profiler's overhead: do not gate on them.

The run arguments (after --, see 'shadowbench run --help') must select exactly
one cell: one --workload, one --backend, one --concurrency level and one
--modes set. A wider selection is refused with the flags to add and a command
that would run. --out is honoured; --json belongs before --.

Options:
  --tool NAME   doctor (event loop, CPU, memory, handles over time), flame (CPU
                flame graph) or bubbleprof (async operations); default flame
  --json        print one JSON object on stdout, keys sorted: { tool, cell, run_dir, report,
                report_bytes, data_dir, collect: { exit_code, ms }, visualize: { exit_code, ms }
                (null for flame, whose one clinic command also builds the report: its
                header shows the elapsed time only then), trace_files_joined,
                run_exit_code, exit_code, problems }
  -q, --quiet   do not echo clinic's and the run's output (still shown on failure)
  -h, --help    show this help

Worker threads: the cell's connections run in piscina worker threads, and
clinic watches the main thread.
  flame       only the main thread's CPU samples (fixture, pool orchestration,
              histogram merging, writing results): V8 writes one profile log
              per thread and clinic profiles one; profile makes sure it is the
              main thread's. The engine work done by the connections is not in
              the graph (for that: node --cpu-prof, see docs/profiling.md).
  doctor      the CPU graph is the whole process (every thread); event-loop
              delay, heap and handles are the main thread's.
  bubbleprof  the main thread's asynchronous operations only.

Exit status: 0 report written and the cell ran; 1 clinic failed, wrote no
report, or the run failed (the cause is printed); 2 bad input.
`;

/** Splits at the first `--`: profile's own options before, the run's after. */
function split(argv: readonly string[]): { own: string[]; run: string[] } {
  const at = argv.indexOf('--');
  if (at >= 0) return { own: argv.slice(0, at), run: argv.slice(at + 1) };
  const runFlag = argv.find((a) => a.startsWith('--') && a.slice(2).split('=')[0]! in RUN_OPTIONS && !(a.slice(2).split('=')[0]! in OPTIONS));
  if (runFlag !== undefined)
    throw new UsageError(`shadowbench profile: ${runFlag} is a run argument: put run arguments after '--' (see 'shadowbench profile --help')`);
  return { own: [...argv], run: [] };
}

async function profile(argv: readonly string[], io: Io): Promise<number> {
  const { own, run } = split(argv);
  const { values } = parseVerbArgs('profile', own, OPTIONS);
  if (values.help === true) {
    io.out(PROFILE_USAGE);
    return 0;
  }
  const tool = values.tool ?? 'flame';
  if (!isTool(tool)) throw new UsageError(`shadowbench profile: --tool must be one of ${TOOLS.join(', ')}, got '${tool}' (see 'shadowbench profile --help')`);
  const { values: runValues } = parseVerbArgs('run', run, RUN_OPTIONS);
  if (runValues.help === true) {
    io.out(PROFILE_USAGE);
    return 0;
  }
  if (runValues.json === true)
    throw new UsageError(`shadowbench profile: --json is profile's own option: put it before '--' (see 'shadowbench profile --help')`);
  const settings = parseRunSettings(runValues);
  const cell = oneCell(settings, tool, runArgv(runValues, ['quiet']));
  // clinic requires the profiled command to start with an executable named node.
  if (!/^node(\.exe)?$/.test(basename(process.execPath))) {
    io.err(`shadowbench profile: clinic needs the Node executable to be named 'node'; this one is ${process.execPath}\n`);
    return 1;
  }

  const outDir = resolve(runValues.out ?? RESULTS_DIR);
  const id = runId(new Date(), settings.seed);
  const runDir = join(outDir, id);
  const profileDir = join(runDir, 'profile');
  mkdirSync(profileDir, { recursive: true });
  const quiet = values.quiet === true;
  const command = [process.execPath, LAUNCHER, 'run', ...childRunArgs(runValues, settings.workloads, outDir, quiet)];
  if (!quiet) io.err(`profile: clinic ${tool} on ${cell.id} -> ${profileDir}\n`);
  let s: Session;
  try {
    s = await profileSession({
      tool,
      runDir,
      profileDir,
      command,
      cwd: profileDir,
      env: { ...process.env, [RUN_ID_ENV]: id, [PROFILED_ENV]: '1' },
      echo: (text: string) => (quiet ? undefined : io.err(text)),
    });
  } catch (err) {
    io.err(`shadowbench profile: ${(err as Error).message}\n`);
    return 1;
  }
  const exitCode = s.problems.length === 0 ? 0 : 1;
  if (exitCode !== 0) {
    io.err(`shadowbench profile: ${s.problems.join('; ')}\n`);
    const last = s.visualize ?? s.collect;
    if (quiet || last.code !== 0) io.err(`--- last output of clinic and the run ---\n${last.tail.trimEnd()}\n`);
  }
  if (values.json === true) {
    const outcome = {
      tool,
      cell: cell.id,
      run_dir: runDir,
      report: s.report?.html ?? null,
      report_bytes: s.report?.bytes ?? null,
      data_dir: s.data,
      collect: { exit_code: s.collect.code, ms: s.collect.elapsed_ms },
      visualize: s.visualize === null ? null : { exit_code: s.visualize.code, ms: s.visualize.elapsed_ms },
      trace_files_joined: s.trace_files_joined,
      run_exit_code: s.run_exit_code,
      exit_code: exitCode,
      problems: s.problems,
    };
    io.out(`${stableJson(outcome)}\n`);
  } else if (s.report !== null) {
    io.out(`report: ${s.report.html} (${(s.report.bytes / 1e6).toFixed(1)} MB)\nresults: ${runDir}\n`);
  }
  return exitCode;
}

export const profileVerb: Verb = {
  name: 'profile',
  summary: 'run one cell under clinic (doctor, flame, bubbleprof) and keep its HTML report in the run folder',
  usage: PROFILE_USAGE,
  options: OPTIONS,
  runOptions: true,
  run: profile,
};
