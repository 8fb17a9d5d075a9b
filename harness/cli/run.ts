// `shadowbench run`: plans the matrix, runs it, writes the run folder.
// Exit 0 when every cell ran, 1 when a cell failed (or reached a different
// final state than its siblings), 2 on bad input.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeGateReports } from '../output/gate-reports.ts';
import { firstScreen } from '../output/screen.ts';
import { executeRun } from '../run/execute.ts';
import { progress } from './progress.ts';
import { RESULTS_DIR, RUN_OPTIONS, parseRunSettings, type RunValues } from './run-args.ts';
import { UsageError, parseVerbArgs, type Io, type Verb } from './verb.ts';
import { stableJson } from '../shared/json.ts';

export { RUN_OPTIONS } from './run-args.ts';

export const RUN_USAGE = `Usage: shadowbench run [options]

Runs workloads against the engine in every requested control mode and writes
results/<run-id>/ (run.json, summary.json, summary.txt, histograms/*.hlog, and
the gate's reports gate.json, gate.md, gate.html). The mode sets of a
workload, backend and concurrency run on the same warmed threads, each round
on fresh databases: every mode set runs the same number of operations of the
same stream (sized to the slice length on the warm-up round, and to at least
1,000 operations of the busiest kind), the mode sets taking turns in ~5 ms
chunks in a seeded balanced order, every connection on one mode set at a
time; rounds, and chunks within them, pair up for the gate. Prints one screen: the gate's verdict
per class, the engines and modes side by side, the cells that failed or
diverged, and where the rest is.

Options:
  --workload NAME|FILE   a canonical workload or a spec file (repeatable; default: the quick canonical suite)
  --variant LIST         engine variants, comma-separated (default: reference):
                           reference  this repository's engine, every requested mode set
                           sqlite     SQLite (better-sqlite3): WAL file; memory = WAL file on /dev/shm; one mode set, n/a
                           external   an engine in another process over the line protocol (docs/variants.md)
                         with several, the summary shows them side by side (reference best mode / comparator ratios)
  --engine-cmd CMD       the external variant's peer command line, run by /bin/sh (e.g. "node test/fixtures/line-engine.mjs")
  --engine-timeout MS    how long the external peer may take to answer one request (default 10000; e.g. 2s)
  --backend memory|file  restrict backends (repeatable or comma-separated; default: each spec's own)
  --concurrency LIST     connection counts, e.g. 1,4,8 (default: the spec's)
  --modes LIST           mode sets, comma-separated: legacy, shadow_compare, new, or CLASS=MODE joined by +
                         (e.g. M6=snapshot+M11=sharded), optionally named NAME:MODES (a:legacy,b:legacy for an A/A pair);
                         default: legacy, shadow_compare, and each class whose card judges the workload in its new
                         primitive alone (M1=polling, M6=snapshot, M11=sharded); new where no card judges it
  --rounds N             measured rounds (pairs) per group (default 30; 12 for the quick suite)
  --warmup-rounds N      unmeasured rounds after calibration, before the measured ones (default 1)
  --seed N               seed of the operation streams, the round orders and the faults (default 1)
  --duration MS          the slice length operation counts are calibrated to, in ms (default 100; e.g. 250, or 1s)
  --target-mde R         after --rounds, keep adding rounds to a group until every deciding comparison
                         (median latency of each promotion candidate the gate judges against its all-legacy
                         mode set; of every mode set when none is a candidate, e.g. A/A arms) can see
                         a change of R (0 < R < 1, e.g. 0.05: 80% power at the gate's alpha; a change counts beyond
                         the gate's 2%, so R <= 0.02 only spends the budget), or --max-time is spent
  --max-time T           the run's time budget (e.g. 3m, 90s). With --target-mde (default 10m): the time left after
                         the later groups' --rounds is shared by the groups expected to need more rounds. Alone: at most
                         --rounds per group, fewer on a machine too slow to run them within T (a group runs another
                         round only while every later group could still run as many, at the times seen so far)
  --min-rounds N         the fewest measured rounds --max-time alone may trim a group to (default 2/3 of --rounds)
  --inject CLASS.FAULT=VALUE[@SET]
                         fault injection into the reference engine, repeatable (e.g. M6.stale_publish=0.01, M6.delay_ns=2000);
                         TXN.delay_ns=N adds N ns of CPU work to every transaction (a regression of known size);
                         @SET scopes it to one mode set (e.g. --modes base:legacy,slow:legacy --inject TXN.delay_ns=900@slow)
  --threshold TRIGGER=VALUE
                         override a fallback trigger's threshold (e.g. M6.alloc_churn=0.1; see 'shadowbench list')
  --kill-switch TRIGGER=latch|K/N
                         fire on the first observation (latch, the default) or on K observations within N operations
  --full                 with no --workload: the full canonical suite instead of the quick one
  --record               record every operation stream into <run-dir>/trace/ for replay
  --out DIR              where run folders go (default: results/)
  --metrics-port N       serve Prometheus metrics on http://127.0.0.1:N/metrics while the run goes on (0 = off, the default)
  --push URL             push the final metrics to this Pushgateway (job shadowbench, run <run-id>) at the end;
                         an unreachable gateway is reported, not fatal
  --otlp URL             export spans of the sampled field records over OTLP/HTTP to URL (…/v1/traces);
                         default: OTEL_EXPORTER_OTLP_ENDPOINT if set, else <run-dir>/spans.jsonl
  --sample-ratio P       head-sampling ratio of field records exported as spans (default 0.01); diverged,
                         session_not_found, torn and slower-than-running-p99.9 records are always kept
  --shadow-sample P      the fraction of transactions shadow_compare compares, chosen by trace_id (default 1: all)
  --twin                 one more arm in every reference group: the group's workload in legacy modes on the frozen
                         engine (harness/runtime/yardstick/frozen-engine.mjs); its median latency each round is the
                         machine's speed that round, by which 'compare' and 'nightly' put two runs at one speed
                         (the nightly always runs it; without it, a frozen unit of work timed between the chunks)
  --json                 print one JSON object on stdout ({ run_dir, exit_code, gate, cells: [...] })
  -q, --quiet            no progress output
  -v, --verbose          after the overview, every cell's table and card fields (summary.txt)
  -h, --help             show this help

Exit status: 0 all cells ran, 1 a cell failed, 2 bad input.
`;

/**
 * Set by `shadowbench profile` on the run it profiles, so it knows the run
 * folder (and can point clinic's --dest into it) before the run starts.
 */
export const RUN_ID_ENV = 'SHADOWBENCH_RUN_ID';

/** The run id from RUN_ID_ENV if set (a plain folder name, not yet a run), else undefined (a fresh one). */
function runIdFromEnv(outDir: string): string | undefined {
  const given = process.env[RUN_ID_ENV];
  if (given === undefined || given === '') return undefined;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(given))
    throw new UsageError(`shadowbench run: ${RUN_ID_ENV}='${given}' is not a plain folder name (letters, digits, '.', '_', '-')`);
  if (existsSync(join(outDir, given, 'run.json'))) throw new UsageError(`shadowbench run: ${RUN_ID_ENV}=${given}: ${join(outDir, given)} already holds a run`);
  return given;
}

/** `run` and `replay`: checks the options, runs (harness/run/execute.ts) and prints the summary table or the run JSON. */
export async function runAndPrint(values: RunValues, io: Io, argv: readonly string[], replayOf: string | null): Promise<number> {
  const settings = parseRunSettings(values);
  const outDir = resolve(values.out ?? RESULTS_DIR);
  const outcome = await executeRun({
    settings,
    outDir,
    argv,
    runId: runIdFromEnv(outDir),
    replayOf,
    record: values.record === true,
    log: (text) => io.err(text),
    quiet: values.quiet === true,
    progress: progress(io, values.quiet !== true),
  });
  if (outcome.folder === null) return outcome.exitCode;
  const {
    exitCode,
    runDir,
    folder: { run, summary },
    telemetry,
  } = outcome;
  const cells = run.cells;
  const engineComparison = summary.engine_comparison;
  const gate = writeGateReports(runDir, outcome.folder);
  if (values.json === true) {
    const telemetryOut = telemetry;
    const gateOut = {
      files: gate.written,
      problems: gate.problems,
      verdicts: gate.report?.verdicts.map((v) => ({ metadata_class: v.metadata_class, verdict: v.verdict, reasons: v.reasons })) ?? null,
    };
    io.out(
      `${stableJson({ run_dir: runDir, exit_code: exitCode, telemetry: telemetryOut, totals: run.totals, engine_comparison: engineComparison, gate: gateOut, cells: cells.map((c) => ({ id: c.id, variant: c.variant, status: c.status, throughput_ops_s: c.throughput_ops_s, usable_for_gate: c.usable_for_gate, failures: c.failures, gaps: c.gaps, not_reported: c.not_reported, correctness: c.correctness })) })}\n`,
    );
  } else {
    io.out(firstScreen({ run, runDir, gate, engineComparison, ...(process.stdout.isTTY === true ? { width: process.stdout.columns } : {}) }));
    if (values.verbose === true) io.out(`\n${readFileSync(join(runDir, 'summary.txt'), 'utf8')}`);
    io.out(`results: ${runDir}\n`);
  }
  return exitCode;
}

export const runVerb: Verb = {
  name: 'run',
  summary: 'run workloads in every control mode and write a run folder',
  usage: RUN_USAGE,
  options: RUN_OPTIONS,
  async run(argv, io) {
    const { values } = parseVerbArgs('run', argv, RUN_OPTIONS);
    if (values.help === true) {
      io.out(RUN_USAGE);
      return 0;
    }
    return runAndPrint(values, io, argv, null);
  },
};
