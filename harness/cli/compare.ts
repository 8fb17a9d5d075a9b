// `shadowbench compare <run-a> <run-b>`: cell by cell, run A the baseline.
// Exit 0 no regression, 1 a regression, 2 could not compare (or not comparable).

import { resolve } from 'node:path';
import { compareRuns } from '../gate/compare.ts';
import { GateInputError, loadGateInput } from '../gate/report.ts';
import { formatTable, stableJson, UsageError, parseVerbArgs, type Verb } from './verb.ts';

const USAGE = `Usage: shadowbench compare <run-a> <run-b> [--json]

Compares two run folders cell by cell, matched by cell id (A is the
baseline): throughput and each operation kind's p50 and p99 over the rounds
of each run, by Mann-Whitney U (which decides), a 95% bootstrap interval of
the median change and Cliff's delta; each cell's metrics are held to a Holm
correction, and fewer than 4 rounds a side cannot decide. Runs with different
hardware signatures are not comparable.

Options:
  --json      one JSON object on stdout (the comparisons and exit_code, keys sorted)
  -h, --help  show this help

Exit status: 0 no regression, 1 a regression, 2 could not compare or not comparable.
`;

const OPTIONS = { json: { type: 'boolean' } } as const;

export const compareVerb: Verb = {
  name: 'compare',
  summary: 'compare two runs cell by cell (exit 1 on a regression)',
  usage: USAGE,
  options: OPTIONS,
  async run(argv, io) {
    const { values, positionals } = parseVerbArgs('compare', argv, OPTIONS, true);
    if (values.help === true) {
      io.out(USAGE);
      return 0;
    }
    if (positionals.length !== 2) throw new UsageError(`shadowbench compare: expected two run folders, got ${positionals.length}`);
    let result;
    try {
      result = compareRuns(loadGateInput(resolve(positionals[0]!)).run, loadGateInput(resolve(positionals[1]!)).run);
    } catch (err) {
      if (err instanceof GateInputError) {
        io.err(`shadowbench compare: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    const code = !result.comparable ? 2 : result.regressions > 0 ? 1 : 0;
    if (values.json === true) io.out(`${stableJson({ ...result, exit_code: code })}\n`);
    else if (!result.comparable) io.out(`not comparable: ${result.why_not}\n`);
    else {
      io.out(`${formatTable([
        ['cell', 'metric', 'A', 'B', 'change', 'p', 'outcome'],
        ...result.comparisons.map((c) => [c.cell_group.replace(/^reference\./, ''), c.metric, c.baseline_median.toFixed(0), c.candidate_median.toFixed(0), `${(c.relative_diff * 100).toFixed(1)}%`, c.rank_test.p_value.toFixed(3), c.outcome]),
      ])}\n\n${result.regressions} regression(s), ${result.improvements} improvement(s)\n`);
    }
    return code;
  },
};
