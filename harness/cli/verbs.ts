// Every verb of the command line, in the order `shadowbench --help` lists
// them. Apart from main.ts (which runs on import) so tests can walk them.

import { listVerb } from './list.ts';
import { runVerb } from './run.ts';
import { replayVerb } from './replay.ts';
import { gateVerb } from './gate.ts';
import { compareVerb } from './compare.ts';
import { storeVerb } from './store.ts';
import { nightlyVerb } from './nightly.ts';
import { profileVerb } from './profile.ts';
import type { Verb } from './verb.ts';

export const VERBS: readonly Verb[] = [runVerb, replayVerb, gateVerb, compareVerb, nightlyVerb, profileVerb, listVerb, storeVerb];
