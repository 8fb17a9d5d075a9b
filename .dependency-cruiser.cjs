// The layering that docs/architecture.md describes, checked by `npm test`
// (npm run lint:deps). harness/ folders are ordered from the bottom up; a
// folder may import the ones below it and never one above, which also rules
// out cycles between folders.

/** harness/ folders, lowest first. */
const LAYERS = [
  'shared', // canonical JSON, tables, number formats, the seeded generator
  'spec', // workload specs and their validation
  'record', // field rows → histograms and counters, figure names
  'ops', // operation streams and traces
  'results', // the run record, summaries, run folders
  'cards', // decision cards, trigger rules, the live evaluator
  'engines', // engine adapters: reference, SQLite, external
  'plan', // the matrix of cells and groups
  'runtime', // process-level helpers: GC, scheduler statistics
  'pool', // the worker side of a run
  'telemetry', // spans, Prometheus metrics
  'gate', // comparisons, verdicts, gate reports
  'store', // the results store
  'output', // the first screen, summary tables, gate report files
  'nightly', // the nightly judgement and its reports
  'profile', // clinic sessions
  'run', // a whole run: groups, rounds, the run record
  'cli', // the verbs
  'bench', // the benchmarks (entry points, like cli)
];

const above = (i) => LAYERS.slice(i + 1);

module.exports = {
  forbidden: [
    {
      name: 'engine-stands-alone',
      comment: 'engine/ imports nothing of the harness, the tests or the workloads, and no telemetry library',
      severity: 'error',
      from: { path: '^engine/' },
      to: { path: ['^(harness|test|workloads|bin)/', '@opentelemetry', 'prom-client', 'hdr-histogram-js', 'piscina'] },
    },
    {
      name: 'engine-through-its-index',
      comment: 'the harness reaches the engine through engine/index.ts only',
      severity: 'error',
      from: { path: '^harness/' },
      to: { path: '^engine/', pathNot: '^engine/index\\.ts$' },
    },
    {
      name: 'tests-stay-in-test',
      comment: 'nothing outside test/ imports test/',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      comment: 'no module cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...LAYERS.map((layer, i) => ({
      name: `layer-${layer}`,
      comment: `harness/${layer}/ imports only folders below it (${LAYERS.slice(0, i).join(', ') || 'none'})`,
      severity: 'error',
      from: { path: `^harness/${layer}/` },
      to: { path: above(i).length === 0 ? '^$' : `^harness/(${above(i).join('|')})/` },
    })),
    {
      name: 'harness-folders-are-layers',
      comment: 'every harness/ folder has its place in LAYERS (.dependency-cruiser.cjs)',
      severity: 'error',
      from: { path: '^harness/', pathNot: `^harness/(${LAYERS.join('|')})/` },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|results|dashboards)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.cjs', '.json'] },
  },
};
