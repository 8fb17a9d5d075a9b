// shadowbench's command line: `shadowbench <verb> [options]`. Each verb is one
// file in harness/cli/ exporting a Verb; register it in verbs.ts.

import { VERBS } from './verbs.ts';
import { EXIT_USAGE, UsageError, type Io } from './verb.ts';
import { formatTable } from '../shared/table.ts';

const io: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

function usage(): string {
  return [
    'Usage: shadowbench <verb> [options]',
    '       shadowbench <verb> --help',
    '',
    'Verbs:',
    formatTable(VERBS.map((v) => [`  ${v.name}`, v.summary])),
    '',
    'Options:',
    '  -h, --help  show this help',
    '',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h') {
    io.out(usage());
    return 0;
  }
  try {
    if (first === undefined) throw new UsageError('shadowbench: missing verb');
    if (first.startsWith('-')) throw new UsageError(`shadowbench: unknown option '${first}' (a verb comes first)`);
    const verb = VERBS.find((v) => v.name === first);
    if (verb === undefined) throw new UsageError(`shadowbench: unknown verb '${first}' (known: ${VERBS.map((v) => v.name).join(', ')})`);
    return await verb.run(rest, io);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`${err.message}\n`);
    if (!err.message.includes('--help')) io.err(`\n${usage()}`);
    return EXIT_USAGE;
  }
}

process.exitCode = await main(process.argv.slice(2));
