// A frozen build of the reference engine: engine/ bundled into one
// self-contained module (scripts/freeze-yardstick.ts), which runs beside this
// checkout's engine in the same process, arm by arm, round by round, opening,
// copying and connecting with its own code (run/twin.ts). A build is loaded
// once per thread and cached by file.

import { pathToFileURL } from 'node:url';
import type * as Engine from '../../engine/index.ts';

/** The engine's exports; a frozen build is typed as today's engine (one missing what the harness needs fails at its use). */
export type EngineModule = typeof Engine;

/** A build on disk and its name (`engine@<commit>`). */
export interface EngineBuild {
  name: string;
  file: string;
}

const loaded = new Map<string, Promise<EngineModule>>();

/** The engine module of a frozen build (once per thread). */
export function loadBuild(file: string): Promise<EngineModule> {
  let m = loaded.get(file);
  if (m === undefined) {
    m = import(pathToFileURL(file).href) as Promise<EngineModule>;
    loaded.set(file, m);
  }
  return m;
}
