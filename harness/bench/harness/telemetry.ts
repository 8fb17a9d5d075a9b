// `npm run bench:telemetry`: what observability costs per operation, as
// ratios measured in one run. Three configurations drive the same workload
// through the real pool, interleaved A B C A B C so machine drift falls on
// all of them:
//   off      the engine without a field-record hook (operation timings only)
//   metrics  field records -> HDR histograms and counters -> prom-client metrics
//   spans    metrics, plus spans at the default head-sampling ratio (to a file)

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from 'simple-statistics';
import { loadSuite } from '../../spec/load.ts';
import { planMatrix } from '../../plan/matrix.ts';
import { parseModeSets } from '../../plan/modes.ts';
import { runMatrix } from '../../run/runner.ts';
import { RunMetrics } from '../../telemetry/metrics.ts';
import { SpanSink } from '../../telemetry/spans.ts';
import { DEFAULT_SAMPLE_RATIO } from '../../record/recorder.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '1500' },
    workload: { type: 'string', default: 'commutative-inserts' },
    json: { type: 'boolean' },
  },
});
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const log = (s: string): void => void process.stderr.write(`${s}\n`);

type Config = 'off' | 'metrics' | 'spans';
const CONFIGS: Config[] = ['off', 'metrics', 'spans'];
const workload = loadSuite().find((w) => w.spec.name === values.workload);
if (workload === undefined) throw new Error(`no canonical workload ${values.workload}`);
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-tel-'));

/** One measured round of one configuration: ns per operation per connection, spans ended. */
async function once(config: Config, round: number): Promise<{ nsPerOp: number; spans: number; windows: number }> {
  const groups = planMatrix({ workloads: [workload!], modeSets: parseModeSets('new'), backends: ['memory'], concurrency: [2], duration_ms: duration });
  const metrics = config === 'off' ? null : new RunMetrics({ run: `bench-${config}-${round}` });
  const spans = config === 'spans' ? new SpanSink({ run: `bench-${round}`, otlp: null, file: join(dir, `spans-${round}.jsonl`) }) : null;
  for (const g of groups) for (const c of g.cells) metrics?.addCell(c);
  const [cell] = await runMatrix({
    groups,
    rounds: 1,
    seed: round,
    faults: {},
    schedule: 'interleaved',
    runDir: join(dir, `${config}-${round}`),
    fieldRecords: config !== 'off',
    sampleRatio: DEFAULT_SAMPLE_RATIO,
    onWindow: (c, d) => {
      metrics?.onWindow(c, d);
      spans?.onWindow(c, d);
    },
    onRound: (c, r) => metrics?.onRound(c, r),
  });
  const report = await spans?.shutdown();
  if (cell === undefined || cell.status !== 'ok' || cell.operations === 0) throw new Error(`${config}: the cell failed: ${cell?.failures.join('; ')}`);
  const nsPerOp = ((cell.measured_ms * 1e6) / cell.operations) * cell.cell.concurrency;
  cell.aggregate.destroy();
  return { nsPerOp, spans: report?.ended ?? 0, windows: metrics?.windows ?? 0 };
}

const samples: Record<Config, number[]> = { off: [], metrics: [], spans: [] };
let spanCount = 0;
for (let r = 1; r <= rounds; r++) {
  for (const c of CONFIGS) {
    const res = await once(c, r);
    samples[c].push(res.nsPerOp);
    if (c === 'spans') spanCount += res.spans;
    log(`round ${r} ${c}: ${Math.round(res.nsPerOp)} ns/op`);
  }
}
const med = Object.fromEntries(CONFIGS.map((c) => [c, median(samples[c])])) as Record<Config, number>;
const out = {
  workload: workload.spec.name,
  backend: 'memory',
  concurrency: 2,
  rounds,
  duration_ms: duration,
  sample_ratio: DEFAULT_SAMPLE_RATIO,
  ns_per_op: med,
  ratio_to_off: { metrics: med.metrics / med.off, spans: med.spans / med.off },
  spans_per_round: spanCount / rounds,
};
if (values.json === true) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
else {
  process.stdout.write(`bench:telemetry — ${out.workload}, memory, c2, ${rounds} interleaved rounds of ${duration} ms (median)\n`);
  process.stdout.write('config    ns/op   vs off\n');
  for (const c of CONFIGS) process.stdout.write(`${c.padEnd(8)} ${Math.round(med[c]).toString().padStart(7)}   ${(med[c] / med.off).toFixed(2)}x\n`);
  process.stdout.write(`spans at sample ratio ${DEFAULT_SAMPLE_RATIO}: ${Math.round(out.spans_per_round)} per round\n`);
  process.stdout.write('ns/op is wall time per operation per connection (measured phase only); "off" still times every operation\n');
}
process.exit(0);
