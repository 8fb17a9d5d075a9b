// Runs clinic's tools headless; doctor and bubbleprof as two commands (collect, visualize).
//
// clinic 13 asks on first use whether it may send usage statistics; with no
// TTY that prompt never resolves and clinic exits 0 with no report, so
// NO_INSIGHT=1 is always set. --open=false keeps it from starting a browser;
// NO_UPDATE_NOTIFIER=1 keeps it from looking for updates over the network.
// Collecting and visualizing separately lets the caller repair what collect
// left half done (see trace-join.ts) before the report is built. clinic's
// exit code does not carry the profiled command's: the caller judges the run.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const TOOLS = ['doctor', 'flame', 'bubbleprof'] as const;
export type Tool = (typeof TOOLS)[number];

export function isTool(name: string): name is Tool {
  return (TOOLS as readonly string[]).includes(name);
}

export interface ClinicResult {
  /** clinic's exit code (null if a signal ended it). */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last of what clinic (and the profiled command) printed, for error messages. */
  tail: string;
  elapsed_ms: number;
}

export interface ClinicOptions {
  /** Working directory: the profiled process and clinic's tools leave scratch files here. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Receives the output as it comes. */
  echo(text: string): void;
}

const TAIL_CHARS = 4000;

export function clinicBin(): string {
  return createRequire(import.meta.url).resolve('clinic/bin.js');
}

function clinic(args: readonly string[], o: ClinicOptions): Promise<ClinicResult> {
  const started = Date.now();
  const child = spawn(process.execPath, [clinicBin(), ...args], {
    cwd: o.cwd,
    env: { ...o.env, NO_INSIGHT: '1', NO_UPDATE_NOTIFIER: '1' },
    // No stdin: nothing may wait on a prompt.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const take = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    tail = (tail + text).slice(-TAIL_CHARS);
    o.echo(text);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, tail, elapsed_ms: Date.now() - started }));
  });
}

/** Runs `command` (which must start with a `node` executable) under the tool; its data goes into `dest`. */
export function collect(tool: Tool, dest: string, command: readonly string[], o: ClinicOptions): Promise<ClinicResult> {
  return clinic([tool, '--collect-only', '--open=false', '--dest', dest, '--', ...command], o);
}

/**
 * Collects and builds the report in one clinic command. flame's report shows
 * the profiled run's elapsed time only when made this way (it reads 0 s after
 * --visualize-only), and flame writes no trace-event files needing repair.
 */
export function collectAndVisualize(tool: Tool, dest: string, command: readonly string[], o: ClinicOptions): Promise<ClinicResult> {
  return clinic([tool, '--open=false', '--dest', dest, '--', ...command], o);
}

/** Whether the tool has Node write trace-event files (node_trace.N.log) that clinic then joins. */
export function usesTraceEvents(tool: Tool): boolean {
  return tool !== 'flame';
}

/** Builds `<data>.html` from a data folder `collect` wrote. */
export function visualize(tool: Tool, data: string, o: ClinicOptions): Promise<ClinicResult> {
  return clinic([tool, '--visualize-only', data, '--open=false'], o);
}

/** The data folder `collect` wrote into `dest` (<pid>.clinic-<tool>), or null. */
export function findData(dest: string, tool: Tool): string | null {
  if (!existsSync(dest)) return null;
  const dirs = readdirSync(dest, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.endsWith(`.clinic-${tool}`))
    .map((d) => d.name)
    .sort();
  return dirs.length === 0 ? null : join(dest, dirs[dirs.length - 1]!);
}

export interface Report {
  html: string;
  bytes: number;
}

/** `<data>.html` if clinic wrote it and it is not empty. */
export function findReport(data: string): Report | null {
  const html = `${data}.html`;
  if (!existsSync(html)) return null;
  const bytes = statSync(html).size;
  return bytes === 0 ? null : { html, bytes };
}
