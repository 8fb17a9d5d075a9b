// Keeps clinic's samplers in other threads away from the main thread's data.
// Plain JavaScript because bin/shadowbench.js runs it before tsx is registered.
//
// clinic doctor and bubbleprof inject their sampler with `-r` in NODE_OPTIONS
// (found through NODE_PATH), and Node runs NODE_OPTIONS preloads in every
// thread: tsx's module-hooks thread (started by register()) and each piscina
// worker. The sampler names its files after process.pid, which those threads
// share with the main thread, so each of them reopened (truncated) the main
// thread's data file and wrote into it. Measured on doctor: 721 samples over
// 5.6 s at a 10 ms interval, timestamps going backwards 5 times.
//
// The main thread's sampler has read its data path by the time this runs
// (preloads run first); threads copy process.env when they start. So
// changing the path here sends every later thread's sampler elsewhere.

/** Where other threads' samplers write, inside the tool's --dest; `shadowbench profile` deletes it. */
export const OTHER_THREADS_DIR = '.other-threads';

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
