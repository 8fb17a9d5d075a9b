// The promotion gate's reports in the run folder (gate.json, gate.md,
// gate.html), written as a run ends so the verdicts are one click away. The
// same reports `shadowbench gate <run-dir>` prints, with its default options.
// Judged from the run in memory when the caller has it; else read from the folder.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportHtml } from '../gate/html.ts';
import { buildReport, gateInputOf, loadGateInput, reportJson, reportMarkdown, type GateReport } from '../gate/report.ts';
import { RunFolderError, type RunResults } from '../results/folder.ts';

const GATE_REPORT_FILES = ['gate.json', 'gate.md', 'gate.html'] as const;

export interface GateReports {
  /** Null when the run folder could not be judged (see problems). */
  report: GateReport | null;
  /** Paths written. */
  written: string[];
  /** What could not be judged or written, with its cause; nothing recorded is lost. */
  problems: string[];
}

export function writeGateReports(runDir: string, results?: RunResults): GateReports {
  let input;
  try {
    input = results === undefined ? loadGateInput(runDir) : gateInputOf(results);
  } catch (err) {
    if (err instanceof RunFolderError) return { report: null, written: [], problems: [`the run folder cannot be judged: ${err.message}`] };
    throw err;
  }
  const report = buildReport(input);
  const texts: Record<(typeof GATE_REPORT_FILES)[number], () => string> = {
    'gate.json': () => reportJson(report),
    'gate.md': () => reportMarkdown(report),
    'gate.html': () => reportHtml(report, input.run, input.summaries ?? []),
  };
  const written: string[] = [];
  const problems: string[] = [];
  for (const file of GATE_REPORT_FILES) {
    const path = join(runDir, file);
    try {
      writeFileSync(path, texts[file]());
      written.push(path);
    } catch (err) {
      problems.push(`cannot write ${path}: ${(err as Error).message}`);
    }
  }
  return { report, written, problems };
}
