// Every verb's --help lists exactly the options the verb accepts: each option
// its parser takes is documented (with its short form), each documented option
// is taken by the real parser, and no flag named anywhere in the help is one
// the verb would refuse.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RUN_OPTIONS } from '../../harness/cli/run-args.ts';
import { UsageError, type Io, type Verb } from '../../harness/cli/verb.ts';
import { VERBS } from '../../harness/cli/verbs.ts';

/** Flags of other programs that a help may name (profile explains clinic and node). */
const FOREIGN = new Set(['cpu-prof', 'visualize-only']);

/** The option lines of a help: `  --name ...` or `  -x, --name ...`, two spaces in. */
function documented(usage: string): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const m of usage.matchAll(/^ {2}(?:-([A-Za-z]), )?--([a-z][a-z0-9-]*)/gm)) out.set(m[2]!, m[1] ?? null);
  return out;
}

/** Every `--flag` the help names, in prose too, except in a quoted command of another verb ('shadowbench run --record'). */
function mentioned(verb: string, usage: string): Set<string> {
  const own = usage.replace(/'shadowbench (\w+)[^']*'/g, (quoted, other: string) => (other === verb ? quoted : ''));
  return new Set([...own.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
}

const quiet: Io = { out: () => {}, err: () => {} };

/** Passes `--name` (with a value when it takes one) and --help to the verb's real parser: 0 if accepted, else the UsageError. */
async function accepts(verb: Verb, name: string): Promise<true | string> {
  const own = name in verb.options || name === 'help';
  const type = (own ? verb.options[name] : RUN_OPTIONS[name as keyof typeof RUN_OPTIONS])?.type;
  const flag = type === 'string' ? [`--${name}`, 'x'] : [`--${name}`];
  // profile takes run options after `--`; every other verb takes them among its own.
  const argv = verb.name === 'profile' && !own ? ['--', ...flag, '--help'] : [...flag, '--help'];
  try {
    const code = await verb.run(argv, quiet);
    return code === 0 ? true : `exit ${code}`;
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
}

for (const verb of VERBS) {
  test(`${verb.name} --help lists the options ${verb.name} accepts, both ways`, async () => {
    assert.ok(verb.usage.startsWith(`Usage: shadowbench ${verb.name}`), 'the help starts with its usage line');
    const docs = documented(verb.usage);
    const own = Object.keys(verb.options);
    // Run's options are documented by 'shadowbench run --help' (a verb that takes them says so below).
    for (const name of own.filter((n) => verb.runOptions !== true || !(n in RUN_OPTIONS))) {
      assert.ok(docs.has(name), `${verb.name} accepts --${name}, which its help does not list`);
      assert.is(docs.get(name), verb.options[name]!.short ?? null, `${verb.name} --${name}: short form in the help`);
    }
    assert.is(docs.get('help'), 'h', `${verb.name} lists -h, --help`);
    for (const name of docs.keys()) {
      if (name === 'help') continue;
      const inRun = verb.runOptions === true && name in RUN_OPTIONS;
      assert.ok(own.includes(name) || inRun, `${verb.name}'s help lists --${name}, which it does not declare`);
      assert.is(await accepts(verb, name), true, `${verb.name}'s parser refuses --${name}, which its help lists`);
    }
    if (verb.runOptions === true) {
      assert.match(verb.usage, /shadowbench run(' option| --help)/, `${verb.name} takes run's options: its help must say so`);
      for (const name of Object.keys(RUN_OPTIONS)) assert.is(await accepts(verb, name), true, `${verb.name} refuses run's --${name}`);
    }
    for (const name of mentioned(verb.name, verb.usage)) {
      if (FOREIGN.has(name)) continue;
      const known = name === 'help' || own.includes(name) || (verb.runOptions === true && name in RUN_OPTIONS);
      assert.ok(known, `${verb.name}'s help names --${name}, which ${verb.name} does not accept`);
    }
    // The check can fail: a flag nobody declares is refused.
    assert.is.not(await accepts(verb, 'no-such-flag'), true);
  });
}

test.run();
