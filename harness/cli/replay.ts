// `shadowbench replay <run-dir>`: drives the operation streams a run recorded
// (`run --record`), same operations in the same order per connection,
// against other modes, backends or faults. The workloads, concurrency levels
// and seed come from the recorded run.

import { resolve } from 'node:path';
import { RunFolderError, readRunRecord } from '../results/folder.ts';
import type { RunRecord } from '../results/record.ts';
import { RUN_OPTIONS, runAndPrint } from './run.ts';
import { UsageError, parseVerbArgs, type Verb } from './verb.ts';

// The trace decides the slices: rounds, warm-up and their lengths come from the recorded run.
const {
  workload: _w,
  record: _r,
  full: _f,
  duration: _d,
  seed: _s,
  rounds: _n,
  'warmup-rounds': _wr,
  'target-mde': _t,
  'max-time': _m,
  'min-rounds': _mr,
  ...REPLAY_OPTIONS
} = RUN_OPTIONS;

const USAGE = `Usage: shadowbench replay <run-dir> [options]

Replays the operation streams recorded by 'shadowbench run --record' into
a new run folder: the same operations, in the same order per connection,
slice by slice as recorded (calibration, warm-up and measured rounds), for
the recorded workloads and concurrency levels.

Options (as in 'shadowbench run --help'; the workloads, seed and duration are the recorded run's):
  --modes LIST           mode sets to replay against (default: as run's, per workload)
  --variant LIST         engine variants to replay against (default: reference)
  --engine-cmd CMD       the external variant's peer command line
  --engine-timeout MS    how long the external peer may take to answer one request (default 10000)
  --backend memory|file  backends (default: each workload's own)
  --concurrency LIST     a subset of the recorded concurrency levels
  --inject CLASS.FAULT=VALUE[@SET]
                         fault injection, repeatable
  --threshold TRIGGER=VALUE
                         override a fallback trigger's threshold
  --kill-switch TRIGGER=latch|K/N
                         when a fallback trigger fires
  --out DIR              where the new run folder goes (default: results/)
  --metrics-port N       serve Prometheus metrics on 127.0.0.1:N while it runs
  --push URL             push the final metrics to this Pushgateway
  --otlp URL             export spans over OTLP/HTTP (default: <run-dir>/spans.jsonl)
  --sample-ratio P       head-sampling ratio of field records exported as spans (default 0.01)
  --shadow-sample P      the fraction of transactions shadow_compare compares (default 1)
  --twin                 a twin arm on the frozen engine in every reference group, its speed reading
  --json                 one JSON object on stdout
  -q, --quiet            no progress output
  -v, --verbose          after the overview, every cell's table and card fields (summary.txt)
  -h, --help             show this help

Exit status: 0 all cells ran, 1 a cell failed, 2 bad input (not a run folder, no trace).
`;

export const replayVerb: Verb = {
  name: 'replay',
  summary: "replay a recorded run's operation streams against other modes or variants",
  usage: USAGE,
  options: REPLAY_OPTIONS,
  async run(argv, io) {
    const { values, positionals } = parseVerbArgs('replay', argv, REPLAY_OPTIONS, true);
    if (values.help === true) {
      io.out(USAGE);
      return 0;
    }
    if (positionals.length !== 1)
      throw new UsageError(`shadowbench replay: expected one run folder, got ${positionals.length} (see 'shadowbench replay --help')`);
    const dir = resolve(positionals[0]!);
    let run: RunRecord;
    try {
      run = readRunRecord(dir);
    } catch (err) {
      if (err instanceof RunFolderError) throw new UsageError(`shadowbench replay: ${err.message}`);
      throw err;
    }
    if (!run.config.trace_recorded) throw new UsageError(`shadowbench replay: ${dir} has no recorded trace (run it with --record)`);
    const recordedLevels = [...new Set(run.cells.map((c) => c.concurrency))];
    const concurrency = values.concurrency ?? recordedLevels.join(',');
    for (const c of concurrency.split(',')) {
      if (!recordedLevels.includes(Number(c.replace(/^c/, ''))))
        throw new UsageError(`shadowbench replay: concurrency ${c} was not recorded (recorded: ${recordedLevels.join(', ')})`);
    }
    return runAndPrint(
      {
        ...values,
        concurrency,
        workload: run.config.workloads.map((w) => w.file),
        seed: String(run.config.seed),
        full: true,
        rounds: String(run.config.rounds),
        'warmup-rounds': String(run.config.warmup_rounds ?? 0),
      },
      io,
      argv,
      dir,
    );
  },
};
