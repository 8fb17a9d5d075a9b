// `shadowbench gate <run-dir>`: a verdict per switchable class (promote,
// hold, rollback) with its reasons and the statistics behind them.

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_GATE } from '../gate/gate.ts';
import { GateInputError, buildReport, loadGateInput, reportJson, reportMarkdown } from '../gate/report.ts';
import { reportHtml } from '../gate/html.ts';
import { UsageError, parseVerbArgs, type Verb } from './verb.ts';

const USAGE = `Usage: shadowbench gate <run-dir> [--json | --format json|md|html] [--out FILE]

Judges a run: for M1, M6 and M11, the candidate mode against the card's
baseline comparator (the all-legacy cell) on the workloads the card names:
exact zero-tolerance counts (divergences, session_not_found), fired fallback
triggers, final states that differ, and performance. Performance is
throughput and the p50 and p99 of the cell's busiest operation kind, paired
round by round (the rounds were interleaved, so each pair saw the same
machine): Student's t on the log ratios decides, with its 95% interval;
Mann-Whitney U and Cliff's delta are reported beside it. A class's tests are
held to a Holm correction; fewer than 4 rounds cannot decide. Requirements
the run could not exercise are listed as not run.

Options:
  --json            the canonical JSON report (same as --format json)
  --format json|md|html
                    JSON (with trace_correlation), Markdown for a pull request (default),
                    or a self-contained HTML page with charts
  --out FILE        write the report to FILE instead of stdout
  --alpha P         significance level, before the Holm correction (default ${DEFAULT_GATE.alpha})
  --min-effect R    smallest relative change that counts (default ${DEFAULT_GATE.min_effect})
  -h, --help        show this help

Exit status: 0 no rollback verdict, 1 a rollback verdict, 2 bad input.
`;

const OPTIONS = {
  json: { type: 'boolean' }, format: { type: 'string' }, out: { type: 'string' }, alpha: { type: 'string' }, 'min-effect': { type: 'string' },
} as const;

export const gateVerb: Verb = {
  name: 'gate',
  summary: 'promote / hold / rollback verdicts per class for a run folder',
  usage: USAGE,
  options: OPTIONS,
  async run(argv, io) {
    const { values, positionals } = parseVerbArgs('gate', argv, OPTIONS, true);
    if (values.help === true) {
      io.out(USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`shadowbench gate: expected one run folder, got ${positionals.length} (see 'shadowbench gate --help')`);
    const format = values.json === true ? 'json' : values.format ?? 'md';
    if (format !== 'json' && format !== 'md' && format !== 'html') throw new UsageError(`shadowbench gate: --format must be json, md or html, got '${format}'`);
    const num = (name: string, v: string | undefined, fallback: number): number => {
      if (v === undefined) return fallback;
      const n = Number(v);
      if (!(n > 0 && n < 1)) throw new UsageError(`shadowbench gate: --${name} must be a number in (0, 1), got '${v}'`);
      return n;
    };
    const options = { ...DEFAULT_GATE, alpha: num('alpha', values.alpha, DEFAULT_GATE.alpha), min_effect: num('min-effect', values['min-effect'], DEFAULT_GATE.min_effect) };
    let report;
    let input;
    try {
      input = loadGateInput(resolve(positionals[0]!));
      report = buildReport(input, options);
    } catch (err) {
      if (err instanceof GateInputError) throw new UsageError(`shadowbench gate: ${err.message}`);
      throw err;
    }
    const text = format === 'json' ? reportJson(report) : format === 'html' ? reportHtml(report, input.run, input.summaries ?? []) : reportMarkdown(report);
    if (values.out !== undefined) writeFileSync(values.out, text);
    else io.out(text);
    return report.verdicts.some((v) => v.verdict === 'rollback') ? 1 : 0;
  },
};
