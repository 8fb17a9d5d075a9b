// `shadowbench run` refusing bad arguments: a UsageError (exit 2) whose
// message names the flag and the cause, before anything runs or prints.

import * as assert from 'uvu/assert';
import { runVerb } from '../../harness/cli/run.ts';
import { UsageError } from '../../harness/cli/verb.ts';

const SILENT = { out: (t: string) => assert.unreachable(`stdout: ${t}`), err: (t: string) => assert.unreachable(`stderr: ${t}`) };

/** Each case's arguments (with `--out out -q`) make `run` throw a UsageError matching its pattern, printing nothing. */
export async function assertRunRefuses(cases: readonly (readonly [readonly string[], RegExp])[], out: string): Promise<void> {
  for (const [args, message] of cases) {
    try {
      await runVerb.run([...args, '--out', out, '-q'], SILENT);
      assert.unreachable(`${args.join(' ')}: accepted`);
    } catch (err) {
      assert.instance(err, UsageError, `${args.join(' ')}: ${String(err)}`);
      assert.match((err as Error).message, message);
    }
  }
}
