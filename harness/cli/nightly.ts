// `shadowbench nightly`: run the canonical suite, store it, judge it against
// the accepted baseline of this hardware signature and against every
// metric's history, write the reports. Also the user's side of that
// judgement: accept a baseline, acknowledge a change point, mute a metric.

import { appendFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildReport, gateInputOf, reportJson, reportMarkdown } from '../gate/report.ts';
import { reportHtml } from '../gate/html.ts';
import { judgeNight, type Annotation } from '../nightly/judge.ts';
import { nightlyJson, nightlyMarkdown } from '../nightly/report.ts';
import { nightlyHtml } from '../nightly/html.ts';
import {
  DEFAULT_BASELINE_NAME,
  DEFAULT_HISTORY_NIGHTS,
  DEFAULT_NOISE_NIGHTS,
  NIGHT_ALPHA,
  NIGHT_CHANGE_POINT,
  NIGHT_GATE,
  NIGHTLY_SHAPE,
} from '../nightly/shape.ts';
import { acceptRun, annotate, annotationsOf, baselineRun, nightlyHistory, recordGateDecisions, storedRun, verdictsOf } from '../nightly/stored.ts';
import { runEnvironment } from '../output/environment.ts';
import { defaultMinRounds } from '../run/budget.ts';
import { executeRun } from '../run/execute.ts';
import { StoreError, StoreUnavailableError, connectStore, describeTarget, redactUrl, storeTarget, type Store } from '../store/connect.ts';
import { importRun } from '../store/ingest.ts';
import { ensureReady } from '../store/migrate.ts';
import { progress } from './progress.ts';
import { RUN_OPTIONS } from './run.ts';
import { RESULTS_DIR, intArg, parseRunSettings } from './run-args.ts';
import { fractionArg } from './verdict-args.ts';
import { EXIT_INCONCLUSIVE, UsageError, parseVerbArgs, type Io, type Verb } from './verb.ts';
import { stableJson } from '../shared/json.ts';

const OPTIONS = {
  ...RUN_OPTIONS,
  store: { type: 'string' },
  baseline: { type: 'string' },
  accept: { type: 'boolean' },
  history: { type: 'string' },
  summary: { type: 'string' },
  'noise-nights': { type: 'string' },
  'max-mde': { type: 'string' },
  'accept-inconclusive': { type: 'boolean' },
  at: { type: 'string' },
  reason: { type: 'string' },
  by: { type: 'string' },
  hardware: { type: 'string' },
} as const;

const USAGE = `Usage: shadowbench nightly [run options] [--store URL] [--baseline NAME] [--accept] [--json] [--summary FILE]
       shadowbench nightly accept <run-id> [--store URL] [--baseline NAME]
       shadowbench nightly ack <metric> --at <run-id> --reason TEXT [--by WHO]
       shadowbench nightly mute <metric> --reason TEXT [--by WHO]
       shadowbench nightly unmute <metric> --reason TEXT [--by WHO]
       shadowbench nightly status [--json]

Runs the quick canonical suite and the cards' one-machine E2E cells (M1's c8 mixed file-backed, M11's c8 hot-page
contention: ${NIGHTLY_SHAPE.defaultRounds} rounds of ${NIGHTLY_SHAPE.sliceMs} ms slices per mode set after a calibration and a warm-up round,
trimmed to no fewer than ${defaultMinRounds(NIGHTLY_SHAPE.defaultRounds)} per group where the machine is too slow to run them in ${NIGHTLY_SHAPE.maxTimeMs / 1000} s (the run's --max-time, unless
--rounds or --duration is given): within three minutes on two cores; --workload, --backend or --concurrency run only the cells asked for),
imports it into the results store, and judges it:
  - against the accepted baseline of this machine's hardware signature, cell by cell (Welch's t on
    the log values of the rounds at one machine speed: each round scaled by its twin's reading, the
    group's workload in legacy modes on the frozen engine, one more arm interleaved with the others
    (run --twin); 95% interval, Cliff's delta); median latency decides,
    throughput and tail percentiles are reported; a significant regression must also stand outside the
    night-to-night noise of the history (a t prediction interval over the past nights), else it
    is reported as suspect, not failed;
  - against the history of every deciding metric (median latency of each cell): a step
    (Pettitt, permutation test) or a slow drift (Mann-Kendall, Sen's slope) is a change point;
    one noisy night never is;
  - by the promotion gate (a rollback verdict fails the night, unless the baseline had it too, or it rests on
    regressions alone, each no larger than the same comparison in the baseline run: one-sided Welch t at the gate's alpha).
The night's false-alarm rate is held to ${NIGHT_ALPHA}: ${NIGHT_GATE.alpha} for the gate's deciding comparisons and
${NIGHT_GATE.alpha} for the baseline's (each one Holm family over every deciding comparison of the night),
${NIGHT_CHANGE_POINT.alpha} for the change points (Bonferroni over the series). Every comparison
carries its minimum detectable effect (MDE, 80% power); one that saw no regression but could have
missed a change larger than --max-mde (its own MDE, or the history's) makes the night inconclusive.
Writes nightly.json, nightly.md, nightly.html (each moved metric night by night), gate.json, gate.md and gate.html into the run folder, and records
the gate's decisions in the store's decision journal.

A metric is <cell-id>:<metric>, e.g. reference.commutative-inserts.memory.c4.M6=snapshot:throughput_ops_s;
mute and unmute take a prefix ending in * too. An acknowledged change point restarts that metric's
history at the night given by --at. Muted metrics are shown, with the reason, and not judged.

Options (besides every 'shadowbench run' option; --rounds defaults to ${NIGHTLY_SHAPE.defaultRounds}):
  --store URL        the results store (SQLite path, sqlite:// or postgres://; default $SHADOWBENCH_STORE_URL,
                     else results/shadowbench.db)
  --baseline NAME    the baseline's name (default ${DEFAULT_BASELINE_NAME}); one per hardware signature
  --accept           make this run the baseline (accept <run-id> does it for a stored run)
  --history N        nights of history judged for change points (default ${DEFAULT_HISTORY_NIGHTS})
  --noise-nights N   nights of history before a regression against the baseline can fail a night
                     (default ${DEFAULT_NOISE_NIGHTS}; until then it is reported as suspect; 0 = fail from the first)
  --max-mde R        largest change a comparison may miss and still count as seen (default ${NIGHT_GATE.max_mde})
  --accept-inconclusive
                     exit 0 instead of ${EXIT_INCONCLUSIVE} on an inconclusive night (the report still says so)
  --summary FILE     append the Markdown report to FILE (e.g. "$GITHUB_STEP_SUMMARY")
  --at RUN           ack: the first night of the new level (each change point in a report gives it)
  --reason TEXT      ack, mute, unmute: why; every report shows it
  --by WHO           who says so (default $GITHUB_ACTOR, else $USER)
  --hardware SIG     ack, mute, unmute, status: another hardware signature than this machine's
  --json             the canonical nightly report (or status) as JSON on stdout
  -h, --help         show this help

Exit status: 0 no regression, 1 a regression, a new change point for the worse, a rollback verdict
or a failed cell, 2 could not run (bad input, store unreachable or at another schema version) or
could not write a report (the report is still printed), ${EXIT_INCONCLUSIVE} inconclusive: no regression, but a
deciding comparison (with the baseline, or the gate's) could have missed a change larger than
--max-mde, e.g. while the history is shorter than --noise-nights; CI fails closed on it unless
--accept-inconclusive, then 0.
`;

type Values = ReturnType<typeof parseVerbArgs<typeof OPTIONS>>['values'];

const who = (v: Values): string => v.by ?? process.env['GITHUB_ACTOR'] ?? process.env['USER'] ?? 'shadowbench';

async function withStore<T>(url: string | undefined, io: Io, what: string, fn: (store: Store) => Promise<T>): Promise<T | null> {
  let target;
  try {
    target = storeTarget(url);
  } catch (err) {
    throw new UsageError(`shadowbench nightly: ${(err as Error).message} (see 'shadowbench nightly --help')`);
  }
  let store: Store;
  try {
    store = await connectStore(target);
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    io.err(`shadowbench nightly: ${what}: ${err.message}\n`);
    return null;
  }
  try {
    await ensureReady(store);
    return await fn(store);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    io.err(`shadowbench nightly: ${what}: store ${describeTarget(target)}: ${redactUrl((err as Error).message)}\n`);
    return null;
  } finally {
    await store.close();
  }
}

async function runNightly(v: Values, io: Io, argv: readonly string[]): Promise<number> {
  const name = v.baseline ?? DEFAULT_BASELINE_NAME;
  const nights = intArg('history', v.history, DEFAULT_HISTORY_NIGHTS, 1, 'nightly');
  const noiseNights = intArg('noise-nights', v['noise-nights'], DEFAULT_NOISE_NIGHTS, 0, 'nightly');
  const options = { ...NIGHT_GATE, max_mde: fractionArg('nightly', 'max-mde', v['max-mde'], NIGHT_GATE.max_mde) };
  // The store must be usable before two minutes go into a run it could not keep.
  if ((await withStore(v.store, io, 'before the run', async () => true)) === null) return 2;
  const settings = parseRunSettings(v, NIGHTLY_SHAPE);
  const outcome = await executeRun({
    settings,
    outDir: resolve(v.out ?? RESULTS_DIR),
    argv,
    nightly: name,
    record: v.record === true,
    log: (text) => io.err(text),
    quiet: v.quiet === true,
    progress: progress(io, v.quiet !== true),
  });
  if (outcome.folder === null) return 2;
  const { folder, runDir } = outcome;
  const { run } = folder;
  // A report that cannot be written (full disk, no permission) is said, and the night still judged and printed: nothing recorded is lost.
  const unwritten: string[] = [];
  const save = (file: string, text: string, append = false): void => {
    try {
      (append ? appendFileSync : writeFileSync)(file, text);
    } catch (err) {
      unwritten.push(`cannot write ${file}: ${(err as Error).message}`);
    }
  };
  const gateInput = gateInputOf(folder);
  const gate = buildReport(gateInput, options);
  save(join(runDir, 'gate.json'), reportJson(gate));
  save(join(runDir, 'gate.md'), reportMarkdown(gate));
  save(join(runDir, 'gate.html'), reportHtml(gate, gateInput.run, gateInput.summaries ?? []));
  const report = await withStore(v.store, io, `judging ${runDir} (the run folder is kept; import it later with 'shadowbench store import')`, async (store) => {
    await importRun(store, folder);
    await recordGateDecisions(store, gate, `nightly:${who(v)}`);
    const hw = run.environment.hardware_signature;
    const baseline = await baselineRun(store, name, hw);
    const r = judgeNight({
      tonight: run,
      run_exit_code: outcome.exitCode,
      baseline_name: name,
      baseline,
      baseline_verdicts: baseline === null ? {} : await verdictsOf(store, baseline.run_id),
      history: await nightlyHistory(store, name, hw, run.run_id, nights - 1),
      annotations: await annotationsOf(store, hw),
      gate,
      options: { gate: options, min_noise_nights: noiseNights, accept_inconclusive: v['accept-inconclusive'] === true },
    });
    if (v.accept === true) {
      const n = await acceptRun(store, run, name, who(v));
      io.err(`accepted ${run.run_id} as baseline '${name}' for hardware signature ${hw} (${n} cells)\n`);
    }
    return r;
  });
  if (report === null) return 2;
  const md = nightlyMarkdown(report);
  save(join(runDir, 'nightly.json'), nightlyJson(report));
  save(join(runDir, 'nightly.md'), md);
  save(join(runDir, 'nightly.html'), nightlyHtml(report));
  if (v.summary !== undefined) save(v.summary, md, true);
  if (v.json === true) io.out(nightlyJson(report));
  else io.out(`${md}\nreports: ${runDir}/nightly.md, nightly.html, nightly.json, gate.html\n`);
  for (const u of unwritten) io.err(`shadowbench nightly: ${u} (the run folder and the store keep the run; the report is on stdout)\n`);
  return unwritten.length > 0 ? 2 : report.exit_code;
}

async function annotateCommand(kind: Annotation['kind'], metric: string | undefined, v: Values, io: Io): Promise<number> {
  const verb = kind === 'acknowledge' ? 'ack' : kind;
  if (metric === undefined || metric.trim() === '') throw new UsageError(`shadowbench nightly ${verb}: name the metric (<cell-id>:<metric>)`);
  if (!metric.includes(':') && !metric.endsWith('*'))
    throw new UsageError(`shadowbench nightly ${verb}: '${metric}' is not <cell-id>:<metric> or a prefix ending in *`);
  if (v.reason === undefined || v.reason.trim() === '') throw new UsageError(`shadowbench nightly ${verb}: --reason is required (reports show it)`);
  if (kind === 'acknowledge' && v.at === undefined)
    throw new UsageError('shadowbench nightly ack: --at <run-id> is required (the first night of the new level; reports name it)');
  if (kind !== 'acknowledge' && v.at !== undefined) throw new UsageError(`shadowbench nightly ${verb}: --at applies to ack only`);
  const hw = v.hardware ?? runEnvironment().hardware_signature;
  const id = await withStore(v.store, io, verb, async (store) => {
    if (v.at !== undefined && (await storedRun(store, v.at)) === null) throw new UsageError(`shadowbench nightly ack: --at ${v.at}: no such run in the store`);
    return annotate(store, hw, {
      kind,
      metric: metric.trim(),
      at_run: v.at ?? null,
      reason: v.reason!.trim(),
      created_by: who(v),
      created_at: new Date().toISOString(),
    });
  });
  if (id === null) return 2;
  io.out(
    v.json === true
      ? `${stableJson({ id, kind, metric, hardware_signature: hw })}\n`
      : `${kind === 'acknowledge' ? 'acknowledged' : `${kind}d`} ${metric} for hardware signature ${hw}\n`,
  );
  return 0;
}

async function acceptCommand(runId: string | undefined, v: Values, io: Io): Promise<number> {
  if (runId === undefined) throw new UsageError('shadowbench nightly accept: name the run id to accept');
  const name = v.baseline ?? DEFAULT_BASELINE_NAME;
  const n = await withStore(v.store, io, 'accept', async (store) => {
    const run = await storedRun(store, runId);
    if (run === null) throw new UsageError(`shadowbench nightly accept: no run ${runId} in the store (import it with 'shadowbench store import')`);
    return { cells: await acceptRun(store, run, name, who(v)), hw: run.environment.hardware_signature };
  });
  if (n === null) return 2;
  io.out(
    v.json === true
      ? `${stableJson({ run_id: runId, baseline: name, hardware_signature: n.hw, cells: n.cells })}\n`
      : `accepted ${runId} as baseline '${name}' for hardware signature ${n.hw} (${n.cells} cells)\n`,
  );
  return 0;
}

async function statusCommand(v: Values, io: Io): Promise<number> {
  const name = v.baseline ?? DEFAULT_BASELINE_NAME;
  const hw = v.hardware ?? runEnvironment().hardware_signature;
  const s = await withStore(v.store, io, 'status', async (store) => ({
    baseline: (await baselineRun(store, name, hw))?.run_id ?? null,
    nights: (await nightlyHistory(store, name, hw, '', DEFAULT_HISTORY_NIGHTS)).map((r) => r.run_id),
    annotations: await annotationsOf(store, hw),
  }));
  if (s === null) return 2;
  if (v.json === true) io.out(`${stableJson({ baseline_name: name, hardware_signature: hw, ...s })}\n`);
  else {
    io.out(
      `hardware signature ${hw}\nbaseline '${name}': ${s.baseline ?? 'none (run shadowbench nightly --accept)'}\nnights of history: ${s.nights.length}${s.nights.length > 0 ? ` (${s.nights[0]} … ${s.nights.at(-1)})` : ''}\n`,
    );
    for (const a of s.annotations)
      io.out(`${a.created_at}  ${a.kind.padEnd(11)} ${a.metric}${a.at_run === null ? '' : ` from ${a.at_run}`}  by ${a.created_by}: ${a.reason}\n`);
  }
  return 0;
}

export const nightlyVerb: Verb = {
  name: 'nightly',
  summary: 'run the suite, store it, judge it against the baseline and the history (exit 0/1/2)',
  usage: USAGE,
  options: OPTIONS,
  runOptions: true,
  async run(argv, io) {
    const { values, positionals } = parseVerbArgs('nightly', argv, OPTIONS, true);
    if (values.help === true) {
      io.out(USAGE);
      return 0;
    }
    const [sub, arg, ...extra] = positionals;
    if (extra.length > 0 || (sub === undefined && arg !== undefined))
      throw new UsageError(`shadowbench nightly: unexpected argument '${extra[0] ?? arg}' (see 'shadowbench nightly --help')`);
    try {
      switch (sub) {
        case undefined:
          return await runNightly(values, io, argv);
        case 'accept':
          return await acceptCommand(arg, values, io);
        case 'ack':
          return await annotateCommand('acknowledge', arg, values, io);
        case 'mute':
          return await annotateCommand('mute', arg, values, io);
        case 'unmute':
          return await annotateCommand('unmute', arg, values, io);
        case 'status':
          return await statusCommand(values, io);
        default:
          throw new UsageError(`shadowbench nightly: unknown subcommand '${sub}' (accept, ack, mute, unmute, status; see 'shadowbench nightly --help')`);
      }
    } catch (err) {
      if (err instanceof StoreError) {
        io.err(`shadowbench nightly: ${redactUrl(err.message)}\n`);
        return 2;
      }
      throw err;
    }
  },
};
