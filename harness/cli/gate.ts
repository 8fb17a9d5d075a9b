// `shadowbench gate <run-dir>`: a verdict per switchable class (promote,
// hold, rollback) with its reasons and the statistics behind them.

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_GATE } from '../gate/options.ts';
import { buildReport, loadGateInput, reportJson, reportMarkdown } from '../gate/report.ts';
import { RunFolderError } from '../results/folder.ts';
import { reportHtml } from '../gate/html.ts';
import { fractionArg } from './verdict-args.ts';
import { EXIT_INCONCLUSIVE, UsageError, parseVerbArgs, type Verb } from './verb.ts';

const USAGE = `Usage: shadowbench gate <run-dir> [--json | --format json|md|html] [--out FILE]

Judges a run: for M1, M6 and M11, the candidate mode against the card's
baseline comparator on the workloads the card names — exact zero-tolerance
counts (divergences, session_not_found), fired fallback triggers, and per
round, paired: Yuen's trimmed-mean t on the log ratios (a tenth of the pairs cut
from each end, none below ten) with its 95% interval (the
Wilcoxon signed-rank test and Cliff's delta beside it). Median latency decides,
as one Holm family over the whole run; throughput and tail percentiles are
reported, never deciding. Every comparison carries its minimum detectable
effect (MDE, 80% power at the Holm level of a lone change): one that saw no
significant change but could have missed more than --max-mde is
inconclusive, never "no change", and its class holds, saying how large a
change could have gone unseen. Requirements the run could not exercise are
listed as not run.

Options:
  --json            the canonical JSON report (same as --format json)
  --format json|md|html
                    JSON (with trace_correlation), Markdown for a pull request (default),
                    or a self-contained HTML page with charts
  --out FILE        write the report to FILE instead of stdout
  --alpha P         significance level, before the Holm correction (default ${DEFAULT_GATE.alpha})
  --min-effect R    smallest relative change that counts (default ${DEFAULT_GATE.min_effect})
  --max-mde R       largest change a comparison may miss and still say no change (default ${DEFAULT_GATE.max_mde})
  --accept-inconclusive
                    exit 0 instead of ${EXIT_INCONCLUSIVE} when a verdict is inconclusive
  -h, --help        show this help

Exit status: 0 no rollback verdict and none inconclusive, 1 a rollback verdict, 2 bad input,
${EXIT_INCONCLUSIVE} inconclusive (no rollback, but a deciding comparison could not see a change of
--max-mde; CI fails closed on it unless --accept-inconclusive, then 0).
`;

const OPTIONS = {
  json: { type: 'boolean' },
  format: { type: 'string' },
  out: { type: 'string' },
  alpha: { type: 'string' },
  'min-effect': { type: 'string' },
  'max-mde': { type: 'string' },
  'accept-inconclusive': { type: 'boolean' },
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
    const format = values.json === true ? 'json' : (values.format ?? 'md');
    if (format !== 'json' && format !== 'md' && format !== 'html') throw new UsageError(`shadowbench gate: --format must be json, md or html, got '${format}'`);
    const options = {
      ...DEFAULT_GATE,
      alpha: fractionArg('gate', 'alpha', values.alpha, DEFAULT_GATE.alpha),
      min_effect: fractionArg('gate', 'min-effect', values['min-effect'], DEFAULT_GATE.min_effect),
      max_mde: fractionArg('gate', 'max-mde', values['max-mde'], DEFAULT_GATE.max_mde),
    };
    let report;
    let input;
    try {
      input = loadGateInput(resolve(positionals[0]!));
      report = buildReport(input, options);
    } catch (err) {
      if (err instanceof RunFolderError) throw new UsageError(`shadowbench gate: ${err.message}`);
      throw err;
    }
    const text = format === 'json' ? reportJson(report) : format === 'html' ? reportHtml(report, input.run, input.summaries ?? []) : reportMarkdown(report);
    if (values.out !== undefined) writeFileSync(values.out, text);
    else io.out(text);
    if (report.verdicts.some((v) => v.verdict === 'rollback')) return 1;
    return report.verdicts.some((v) => v.inconclusive) && values['accept-inconclusive'] !== true ? EXIT_INCONCLUSIVE : 0;
  },
};
