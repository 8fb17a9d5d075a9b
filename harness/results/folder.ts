// A run folder as one thing: run.json (the run record), summary.json (its
// figures) and histograms/<cell>.hlog (each cell's histograms). Every read
// checks each file against its schema and the files against each other; a
// folder missing a file, or holding a truncated or corrupt one, is one
// RunFolderError naming the file and what is wrong with it.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { z } from 'zod';
import { HlogParseError, parseHistogramLog, type HistogramLog } from './hlog.ts';
import { RUN_FORMAT, RUN_VERSION, RunRecord } from './record.ts';
import { RunSummary } from './summary.ts';

export const RUN_FILE = 'run.json';
export const SUMMARY_FILE = 'summary.json';

export class RunFolderError extends Error {
  override readonly name = 'RunFolderError';
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
  }
}

/** A run's record and figures: what gates, comparisons and reports read. */
export interface RunResults {
  run: RunRecord;
  summary: RunSummary;
}

/** Everything a run folder holds that the results store keeps: the results and every cell's histograms (by cell id). */
export interface RunFolder extends RunResults {
  histograms: ReadonlyMap<string, HistogramLog>;
}

const INCOMPLETE = 'no such file (the run folder is incomplete)';

function readText(file: string, missing: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new RunFolderError(file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? missing : (err as Error).message);
  }
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RunFolderError(file, `not valid JSON: truncated or corrupt (${(err as Error).message})`);
  }
}

function fit<S extends z.ZodType>(file: string, json: unknown, schema: S, what: string): z.infer<S> {
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  const issues = r.error.issues;
  const shown = issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
  throw new RunFolderError(file, `does not fit ${what}: ${shown}${issues.length > 3 ? ` (and ${issues.length - 3} more)` : ''}`);
}

const listed = (ids: readonly string[]): string => `${ids.slice(0, 3).join(', ')}${ids.length > 3 ? `, … ${ids.length - 3} more` : ''}`;

/** run.json alone. */
export function readRunRecord(dir: string): RunRecord {
  const file = join(dir, RUN_FILE);
  const json = parseJson(file, readText(file, 'no such file (not a run folder)'));
  const head = (typeof json === 'object' && json !== null ? json : {}) as { format?: unknown; version?: unknown };
  if (head.format !== RUN_FORMAT || head.version !== RUN_VERSION) throw new RunFolderError(file, `not a ${RUN_FORMAT} version ${RUN_VERSION} record`);
  return fit(file, json, RunRecord, 'the run record');
}

/** run.json and summary.json, which must describe the same run and cells. */
export function readRunResults(dir: string): RunResults {
  const run = readRunRecord(dir);
  const file = join(dir, SUMMARY_FILE);
  const summary = fit(file, parseJson(file, readText(file, INCOMPLETE)), RunSummary, 'the run summary');
  if (summary.run_id !== run.run_id) throw new RunFolderError(file, `belongs to run ${summary.run_id}, but run.json to ${run.run_id}`);
  const ids = new Set(summary.cells.map((c) => c.id));
  const missing = run.cells.map((c) => c.id).filter((id) => !ids.has(id));
  if (missing.length > 0) throw new RunFolderError(file, `no figures for ${missing.length} of the ${run.cells.length} cells of run.json (${listed(missing)}): truncated or corrupt`);
  return { run, summary };
}

/** The whole folder: run.json, summary.json and every cell's histograms, each histogram decoded once to prove it whole. */
export function readRunFolder(dir: string): RunFolder {
  const results = readRunResults(dir);
  const listedBy = new Map(results.summary.cells.map((c) => [c.id, Object.keys(c.histograms)]));
  const histograms = new Map<string, HistogramLog>();
  for (const cell of results.run.cells) {
    const file = resolve(dir, cell.histograms_file);
    if (relative(resolve(dir), file).startsWith('..')) throw new RunFolderError(join(dir, RUN_FILE), `cell ${cell.id}: histograms_file '${cell.histograms_file}' lies outside the run folder`);
    let log: HistogramLog;
    try {
      log = parseHistogramLog(readText(file, INCOMPLETE));
    } catch (err) {
      if (err instanceof HlogParseError) throw new RunFolderError(file, err.message);
      throw err;
    }
    // A file cut at a line boundary parses; summary.json says what it should hold.
    const held = new Set(log.intervals.map((i) => i.tag));
    const expected = listedBy.get(cell.id) ?? [];
    const absent = expected.filter((tag) => !held.has(tag));
    if (absent.length > 0) throw new RunFolderError(file, `holds ${expected.length - absent.length} of the ${expected.length} histograms summary.json lists (missing ${listed(absent)}): truncated or corrupt`);
    histograms.set(cell.id, log);
  }
  return { ...results, histograms };
}

/** Writes run.json, summary.json and each cell's histograms. */
export function writeRunFolder(dir: string, folder: RunFolder): void {
  for (const cell of folder.run.cells) {
    const log = folder.histograms.get(cell.id);
    if (log === undefined) continue;
    const file = join(dir, cell.histograms_file);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, log.text);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, RUN_FILE), `${JSON.stringify(folder.run, null, 2)}\n`);
  writeFileSync(join(dir, SUMMARY_FILE), `${JSON.stringify(folder.summary, null, 2)}\n`);
}
