// One profile: collect under clinic, repair what clinic 13 leaves half done
// on Node 20, visualize (flame does both in one command), then judge the result. Every failure is collected
// as a sentence naming its cause; the verb prints them and exits 1.

import { existsSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RunFolderError, readRunRecord, RUN_FILE } from '../results/folder.ts';
import {
  collect,
  collectAndVisualize,
  findData,
  findReport,
  usesTraceEvents,
  visualize,
  type ClinicOptions,
  type ClinicResult,
  type Report,
  type Tool,
} from './clinic.ts';
import { OTHER_THREADS_DIR } from './other-threads.mjs';
import { joinTraceFiles, TraceJoinError, traceFiles } from './trace-join.ts';

export interface SessionOptions extends ClinicOptions {
  tool: Tool;
  /** The run folder the profiled `run` writes (its id was fixed beforehand). */
  runDir: string;
  /** <run-dir>/profile: clinic's --dest and the working directory. */
  profileDir: string;
  command: readonly string[];
}

export interface Session {
  report: Report | null;
  data: string | null;
  collect: ClinicResult;
  /** Null when the tool made the report in the collect command (flame), or nothing was visualized. */
  visualize: ClinicResult | null;
  /** node_trace.N.log files clinic could not join and this session did. */
  trace_files_joined: number;
  /** What the profiled run returned, judged from its run.json; null if it wrote none. */
  run_exit_code: number | null;
  problems: string[];
}

const exited = (what: string, r: ClinicResult): string => `${what} ${r.code === null ? `was ended by ${r.signal}` : `exited with code ${r.code}`}`;

/** `run`'s exit code from its run.json (1 if a cell failed or modes disagreed), null if there is none. */
function runExitCode(runDir: string): number | null {
  if (!existsSync(join(runDir, RUN_FILE))) return null;
  const run = readRunRecord(runDir);
  return run.totals.failed > 0 || run.totals.correctness_failures > 0 ? 1 : 0;
}

export async function profileSession(o: SessionOptions): Promise<Session> {
  const problems: string[] = [];
  const twoSteps = usesTraceEvents(o.tool);
  const collected = await (twoSteps ? collect : collectAndVisualize)(o.tool, o.profileDir, o.command, o);
  // Other threads' sampler files and V8 logs (see other-threads.mjs): not data anyone should read.
  rmSync(join(o.profileDir, OTHER_THREADS_DIR), { recursive: true, force: true });
  const data = findData(o.profileDir, o.tool);
  // Trace files still here mean clinic's own join failed (it deletes them when it succeeds).
  const leftovers = traceFiles(o.profileDir);
  let joined = 0;
  if (leftovers.length > 0 && data !== null) {
    try {
      joinTraceFiles(leftovers, join(data, `${basename(data)}-traceevent`));
      joined = leftovers.length;
    } catch (err) {
      if (!(err instanceof TraceJoinError)) throw err;
      problems.push(`could not join the trace-event files clinic left: ${err.message}`);
    }
  }
  // A failed collect is fatal unless the failure was the join just repaired.
  if (collected.code !== 0 && joined === 0) problems.push(exited(`clinic ${o.tool}${twoSteps ? ' --collect-only' : ''}`, collected));
  let shown: ClinicResult | null = null;
  let report: Report | null = null;
  if (data === null) {
    problems.push(`clinic ${o.tool} collected no data in ${o.profileDir}`);
  } else if (problems.length === 0) {
    if (twoSteps) {
      shown = await visualize(o.tool, data, o);
      if (shown.code !== 0) problems.push(exited(`clinic ${o.tool} --visualize-only`, shown));
    }
    report = findReport(data);
    if (report === null) problems.push(`clinic ${o.tool} wrote no HTML report (${data}.html)`);
  }
  let runCode: number | null = null;
  try {
    runCode = runExitCode(o.runDir);
    if (runCode === null) problems.push('the profiled run wrote no run.json (it did not finish)');
    else if (runCode !== 0) problems.push(`the profiled cell failed (see ${join(o.runDir, RUN_FILE)})`);
  } catch (err) {
    if (!(err instanceof RunFolderError)) throw err;
    problems.push(`the profiled run's record cannot be read: ${err.message}`);
  }
  return { report, data, collect: collected, visualize: shown, trace_files_joined: joined, run_exit_code: runCode, problems };
}
