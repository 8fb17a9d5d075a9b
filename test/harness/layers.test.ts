// The layering check that `npm test` runs (scripts/check-layers.ts) finds
// each kind of broken arrow, and reads every form of import.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLayers, importsOf } from '../../scripts/check-layers.ts';

const rules = (files: Record<string, string>): string[] => checkLayers(new Map(Object.entries(files))).map((v) => `${v.rule}: ${v.from} → ${v.to}`);

test('import forms: static, type-only, re-export, side effect, literal dynamic; comments ignored', () => {
  const src = [
    "import { a } from './a.ts';",
    "import type { B } from '../b.ts';",
    "export { c } from './c.ts';",
    "import './d.ts';",
    "const e = await import('./e.ts');",
    "// import { f } from './f.ts';",
    "/* import { g } from './g.ts'; */",
  ].join('\n');
  assert.equal(importsOf(src), ['./a.ts', '../b.ts', './c.ts', './d.ts', './e.ts']);
});

test('each rule: layers point down, no cycles, the engine stands alone and is reached through its index, tests stay in test/', () => {
  assert.equal(rules({ 'harness/gate/x.ts': "import { y } from '../cli/verb.ts';" }), ['layer-gate: harness/gate/x.ts → harness/cli/verb.ts']);
  assert.equal(rules({ 'harness/cli/x.ts': "import { y } from '../gate/y.ts';" }), [], 'down is allowed');
  assert.equal(rules({ 'engine/a.ts': "import '../harness/record/keys.ts';" }), ['engine-stands-alone: engine/a.ts → harness/record/keys.ts']);
  assert.equal(rules({ 'engine/a.ts': "import { trace } from '@opentelemetry/api';" }), ['engine-stands-alone: engine/a.ts → @opentelemetry/api']);
  assert.equal(rules({ 'harness/spec/a.ts': "import { x } from '../../engine/shared/random.ts';" }), [
    'engine-through-its-index: harness/spec/a.ts → engine/shared/random.ts',
  ]);
  assert.equal(rules({ 'harness/store/a.ts': "import { x } from '../../test/support/net.ts';" }), [
    'tests-stay-in-test: harness/store/a.ts → test/support/net.ts',
  ]);
  assert.equal(rules({ 'harness/widgets/a.ts': "import { x } from '../shared/json.ts';" }), [
    'harness-folders-are-layers: harness/widgets/a.ts → (harness/widgets is not in LAYERS)',
  ]);
  assert.equal(rules({ 'harness/gate/a.ts': "import './b.ts';", 'harness/gate/b.ts': "import './a.ts';" }), [
    'no-circular: harness/gate/a.ts → harness/gate/b.ts → harness/gate/a.ts',
  ]);
});

test.run();
