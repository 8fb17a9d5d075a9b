// Keeps what clinic records for other threads away from the main thread's
// data. Plain JavaScript: bin/shadowbench.js runs it before tsx is registered,
// so before tsx's module-hooks thread or any piscina thread exists.
//
// doctor, bubbleprof: their samplers are injected with `-r` in NODE_OPTIONS
// (found through NODE_PATH), and Node runs NODE_OPTIONS preloads in every
// thread. A sampler names its files after process.pid, which the threads
// share, so each thread reopened (truncated) the main thread's data file and
// wrote into it. Measured on doctor: 721 samples over 5.6 s at a 10 ms
// interval, timestamps going backwards 5 times; on a 400-operation c2 cell
// the report could not be built at all. The main thread's sampler has read
// its data path by the time this runs (preloads run first) and threads copy
// process.env when they start, so changing the path here sends every later
// thread's sampler elsewhere.
//
// flame: V8 writes one --prof log per thread (isolate-<address>-<pid>-...),
// in the working directory as it is when the thread starts, and clinic's 0x
// keeps the first matching file it lists there, which on ext4 (hash order)
// was a worker's or a hooks thread's in some runs. Moving the main thread
// into a subfolder before other threads start leaves only its own log where
// 0x looks. Done only under `shadowbench profile`, which gives the run
// absolute paths, since a changed working directory would move relative ones.

import { mkdirSync } from 'node:fs';

/** Where other threads' data goes, inside the tool's --dest; `shadowbench profile` deletes it. */
export const OTHER_THREADS_DIR = '.other-threads';

/** Set by `shadowbench profile` on the run it profiles. */
export const PROFILED_ENV = 'SHADOWBENCH_PROFILED';

/** The data-path variable each injecting tool's sampler reads, by the injects folder clinic puts on NODE_PATH. */
const SAMPLERS = [
  { injects: /@clinic[\\/]doctor[\\/]injects/, dataPath: 'NODE_CLINIC_DOCTOR_DATA_PATH' },
  { injects: /@clinic[\\/]bubbleprof[\\/]injects/, dataPath: 'NODE_CLINIC_BUBBLEPROF_DATA_PATH' },
];

/**
 * Points the samplers of threads started from now on into OTHER_THREADS_DIR.
 * Does nothing unless clinic doctor or bubbleprof is injecting its sampler.
 * @param {NodeJS.ProcessEnv} env
 */
export function redirectThreadSamplers(env = process.env) {
  for (const s of SAMPLERS) {
    if (!s.injects.test(env.NODE_PATH ?? '')) continue;
    env[s.dataPath] = `${(env[s.dataPath] ?? '.').replace(/[\\/]+$/, '')}/${OTHER_THREADS_DIR}`;
  }
}

/**
 * Under --prof with a relative --logfile, in a run started by `shadowbench
 * profile`: moves the working directory into OTHER_THREADS_DIR so that
 * threads started from now on write their V8 logs there. Returns whether it did.
 * @param {readonly string[]} execArgv
 * @param {NodeJS.ProcessEnv} env
 */
export function sendThreadLogsAside(execArgv = process.execArgv, env = process.env) {
  if (env[PROFILED_ENV] !== '1' || !execArgv.includes('--prof')) return false;
  const logfile = execArgv.find((a) => a.startsWith('--logfile='))?.slice('--logfile='.length) ?? 'v8.log';
  if (logfile.startsWith('/')) return false;
  mkdirSync(OTHER_THREADS_DIR, { recursive: true });
  process.chdir(OTHER_THREADS_DIR);
  return true;
}
