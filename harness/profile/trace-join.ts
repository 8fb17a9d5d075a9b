// Joins the trace-event files a profiled process left behind.
//
// clinic doctor and bubbleprof turn on Node's trace events, which Node writes
// to node_trace.1.log, node_trace.2.log, ... in the working directory,
// starting a new file every ~92 MB. clinic 13 then joins them through a
// stream pipeline that fails on Node 20 with "premature close" whenever there
// is more than one file (measured: 3 files, 1,114,744 events; its output had
// 1,114,243 and no closing bracket, and clinic exited 1 with no report).
// bubbleprof reaches several files within a second on this harness (every
// promise is an event). Each file is one JSON object {"traceEvents":[...]},
// so joining is splicing their arrays.

import { closeSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const FILE = /^node_trace\.(\d+)\.log$/;
const HEAD = /^\s*\{\s*"traceEvents"\s*:\s*\[/;
const TAIL = /\]\s*\}\s*$/;

/** node_trace.N.log files in `dir`, in N order. */
export function traceFiles(dir: string): string[] {
  return readdirSync(dir)
    .map((f) => FILE.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => join(dir, m[0]));
}

export class TraceJoinError extends Error {
  override readonly name = 'TraceJoinError';
}

/** Writes one {"traceEvents":[...]} from `files` to `output`, then deletes the files. */
export function joinTraceFiles(files: readonly string[], output: string): void {
  const fd = openSync(output, 'w');
  try {
    writeSync(fd, '{"traceEvents":[');
    let first = true;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      if (!HEAD.test(text) || !TAIL.test(text)) throw new TraceJoinError(`${file}: not a complete trace-event file (the process may have been killed)`);
      const body = text.replace(HEAD, '').replace(TAIL, '').trim();
      if (body === '') continue;
      writeSync(fd, first ? body : `,${body}`);
      first = false;
    }
    writeSync(fd, ']}');
  } finally {
    closeSync(fd);
  }
  for (const file of files) rmSync(file);
}
