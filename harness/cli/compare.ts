// `shadowbench compare <run-a> <run-b>`: cell by cell, run A the baseline;
// `shadowbench compare <run> --arms A,B`: arm B against arm A of one run,
// paired round by round. Exit 0 no regression, 1 a regression, 2 bad input
// or not comparable, 3 inconclusive.

import { resolve } from 'node:path';
import { ArmsError, compareArms, compareRuns, type RunComparison } from '../gate/compare.ts';
import { mdeText, P_COLUMN, type Comparison } from '../gate/comparison.ts';
import { DEFAULT_GATE, type GateOptions } from '../gate/options.ts';
import { RunFolderError, readRunRecord } from '../results/folder.ts';
import { fractionArg } from './verdict-args.ts';
import { EXIT_INCONCLUSIVE, UsageError, parseVerbArgs, type Verb } from './verb.ts';
import { stableJson } from '../shared/json.ts';
import { formatTable } from '../shared/table.ts';

const USAGE = `Usage: shadowbench compare <run-a> <run-b> [--json]
       shadowbench compare <run> --arms A,B [--json]

With two run folders: cell by cell, A the baseline, Welch's t on the log values of
each cell's rounds (the rounds of two runs do not pair), at the baseline's machine
speed: each round scaled by the yardstick read beside it (the twin arm of the nightly and
of runs asked for one, else a frozen unit of work), where both runs carry the same one's readings
(a shared VM changes speed between runs; "speed" says which). With --arms: arm B against
arm A of one run (mode-set labels: a run whose mode sets are a:legacy,b:legacy has
arms a and b), cell by cell, paired round by round: Yuen's trimmed-mean t on the
per-round log ratios (a tenth of the pairs cut from each end, none below ten; rounds
whose arms took turns chunk by chunk pair chunk by chunk first). The median latency
of each operation kind decides, as one Holm family over the whole comparison;
throughput and p99 are reported, never deciding. With --arms a change counts when
it lies beyond ±--min-effect with confidence; across runs when it is significant
and its estimate reaches --min-effect. Each metric has its change, 95% interval, p,
the p of the test that decides (and Holm's), its minimum detectable effect (MDE:
the smallest change the comparison could detect that way with 80% power at the
Holm level of a lone change) and outcome: improved, regressed, no_change, or
inconclusive when it found no change that counts but could have missed one larger
than --max-mde. Runs with different hardware signatures are not comparable.

Options:
  --arms A,B        compare two arms of one run (B against A)
  --json            one JSON object: every metric with change, ci, p, p_beyond_min_effect, p_adjusted, mde, outcome
  --alpha P         family-wise significance level (default ${DEFAULT_GATE.alpha})
  --min-effect R    smallest relative change that counts (default ${DEFAULT_GATE.min_effect})
  --max-mde R       largest change a comparison may miss and still say no change (default ${DEFAULT_GATE.max_mde})
  --accept-inconclusive
                    exit 0 instead of ${EXIT_INCONCLUSIVE} when a deciding metric is inconclusive
  -h, --help        show this help

Exit status: 0 no regression of B against A and no deciding metric inconclusive,
1 a regression, 2 bad input (a folder that is not a run, an unknown arm, the same
arm twice, arms that share no cell) or runs not comparable, ${EXIT_INCONCLUSIVE} inconclusive
(no regression, but a deciding metric could not see a change of --max-mde; CI
fails closed on it unless --accept-inconclusive, then 0).
`;

/** One metric as the JSON and the table give it. */
function row(c: Comparison) {
  return {
    cell: c.cell_group,
    metric: c.metric,
    deciding: c.deciding,
    baseline_median: c.baseline_median,
    candidate_median: c.candidate_median,
    rounds: [c.baseline_rounds.length, c.candidate_rounds.length],
    test: c.test?.test ?? null,
    change: c.relative_diff,
    ci: c.ci,
    p: c.test?.p_value ?? null,
    p_beyond_min_effect: c.p_beyond_min_effect,
    p_adjusted: c.p_adjusted,
    mde: c.mde,
    rank_test: { test: c.rank_test.test, p: c.rank_test.p_value, min_p: c.rank_test.min_p_value },
    outcome: c.outcome,
    inconclusive_reason: c.inconclusive_reason,
    speed: c.speed,
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

const OPTIONS = {
  json: { type: 'boolean' },
  arms: { type: 'string' },
  alpha: { type: 'string' },
  'min-effect': { type: 'string' },
  'max-mde': { type: 'string' },
  'accept-inconclusive': { type: 'boolean' },
} as const;

export const compareVerb: Verb = {
  name: 'compare',
  summary: 'compare two runs, or two arms of one run (exit 1 on a regression, 3 inconclusive)',
  usage: USAGE,
  options: OPTIONS,
  async run(argv, io) {
    const { values, positionals } = parseVerbArgs('compare', argv, OPTIONS, true);
    if (values.help === true) {
      io.out(USAGE);
      return 0;
    }
    const want = values.arms === undefined ? 2 : 1;
    if (positionals.length !== want)
      throw new UsageError(
        `shadowbench compare: expected ${want === 2 ? 'two run folders' : 'one run folder with --arms'}, got ${positionals.length} (see 'shadowbench compare --help')`,
      );
    const options: GateOptions = {
      ...DEFAULT_GATE,
      alpha: fractionArg('compare', 'alpha', values.alpha, DEFAULT_GATE.alpha),
      min_effect: fractionArg('compare', 'min-effect', values['min-effect'], DEFAULT_GATE.min_effect),
      max_mde: fractionArg('compare', 'max-mde', values['max-mde'], DEFAULT_GATE.max_mde),
    };
    let result: RunComparison;
    try {
      if (values.arms === undefined) result = compareRuns(readRunRecord(resolve(positionals[0]!)), readRunRecord(resolve(positionals[1]!)), options);
      else {
        const arms = values.arms.split(',').map((s) => s.trim());
        if (arms.length !== 2 || arms.some((a) => a === '')) throw new UsageError(`shadowbench compare: --arms takes two arm labels A,B, got '${values.arms}'`);
        result = compareArms(readRunRecord(resolve(positionals[0]!)), arms[0]!, arms[1]!, options);
      }
    } catch (err) {
      if (err instanceof RunFolderError || err instanceof ArmsError) {
        io.err(`shadowbench compare: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    const inconclusive = result.inconclusive > 0 && values['accept-inconclusive'] !== true;
    const code = !result.comparable ? 2 : result.regressions > 0 ? 1 : inconclusive ? EXIT_INCONCLUSIVE : 0;
    const metrics = result.comparisons.map(row);
    if (values.json === true) {
      const { comparisons: _, ...rest } = result;
      io.out(`${stableJson({ ...rest, options, metrics, exit_code: code })}\n`);
    } else if (!result.comparable) io.out(`not comparable: ${result.why_not}\n`);
    else {
      io.out(
        `${formatTable([
          ['cell', 'metric', 'decides', 'A', 'B', 'change', '95% CI', P_COLUMN, 'MDE', 'outcome'],
          ...metrics.map((m) => [
            m.cell.replace(/^reference\./, ''),
            m.metric,
            m.deciding ? 'yes' : 'tail',
            m.baseline_median.toFixed(0),
            m.candidate_median.toFixed(0),
            pct(m.change),
            m.ci === null ? '-' : `[${pct(m.ci.lower)}, ${pct(m.ci.upper)}]`,
            m.p === null ? '-' : `${m.p.toFixed(4)} (${m.p_adjusted!.toFixed(4)})`,
            mdeText(m.mde),
            m.inconclusive_reason === null ? m.outcome : `${m.outcome}: ${m.inconclusive_reason.replace(/_/g, ' ')}`,
          ]),
        ])}\n\n${metrics.some((m) => m.speed === 'yardstick') ? "A and B at A's machine speed (each round scaled by the yardstick timed beside it).\n" : ''}${result.regressions} regression(s), ${result.improvements} improvement(s), ${result.inconclusive} inconclusive of ${metrics.filter((m) => m.deciding).length} deciding metric(s)` +
          `${result.inconclusive > 0 ? `: no significant change, but changes up to the MDE shown (above ${pct(options.max_mde)}) could have gone unseen` : ''}\n`,
      );
    }
    return code;
  },
};
