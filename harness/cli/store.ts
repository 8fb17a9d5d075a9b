// `shadowbench store <migrate|status|check|import> [--store URL] [--json]`:
// the results store's schema, drift gate and run import (harness/store/). The store is
// --store, else SHADOWBENCH_STORE_URL, else results/shadowbench.db; printed
// URLs have their password redacted.
//
// JSON output (`--json`), keys sorted at every level:
//   migrate  { schema: "shadowbench.store-migrate/1", store, steps: [{direction, version, name, note?}], status }
//   status   { schema: "shadowbench.store-status/1", store, current, latest, applied, pending, unknown, empty }
//   check    { schema: "shadowbench.store-check/1", store, events: [{code, level, domain, detail, trace_correlation}], summary }
//   import   { schema: "shadowbench.store-import/1", store, run_id, cells, histograms, fallbacks }
// Exit codes: 0 ok; 1 check failed, store error or schema too old/new; 2 usage,
// a store that cannot be opened or reached, a run folder that cannot be read.

import { RunFolderError, readRunFolder } from '../results/folder.ts';
import { checkStore } from '../store/check.ts';
import { StoreError, StoreUnavailableError, connectStore, describeTarget, redactUrl, storeTarget, type Store } from '../store/connect.ts';
import { importRun } from '../store/ingest.ts';
import { migrateTo, migrationStatus, type MigrationStatus } from '../store/migrate.ts';
import { UsageError, parseVerbArgs, type Io, type Verb } from './verb.ts';
import { stableJson } from '../shared/json.ts';
import { formatTable } from '../shared/table.ts';

const USAGE = `Usage: shadowbench store <migrate|status|check> [options]
       shadowbench store import <run-dir> [options]

  migrate   apply pending schema migrations (or --to N to move down to version N)
  status    the schema version of the store and its applied and pending migrations
  check     drift gate: policy matrix, models, live schema and round trips;
            exits 1 on any error-level event
  import    store a run folder (run.json, summary.json, histograms/*.hlog) in one
            transaction; a missing, truncated or corrupt file is named and
            nothing is stored; an empty embedded store is migrated first

Options:
  --store URL   SQLite file path, sqlite:// URL or postgres:// URL
                (default: $SHADOWBENCH_STORE_URL, else results/shadowbench.db)
  --to N        migrate only: target schema version (0 reverts every migration)
  --json        machine-readable output
  -h, --help    show this help

Exit status: 0 ok; 1 check failed, a store error, or a schema too old or new;
2 bad input: usage, a store that cannot be opened, is not a database or cannot
be reached, a run folder that cannot be read.
`;

const OPTIONS = { store: { type: 'string' }, json: { type: 'boolean' }, to: { type: 'string' } } as const;

function statusText(s: MigrationStatus): string {
  const rows = [...s.applied.map((a) => [`  ${a.version}`, a.name, `applied ${a.applied_at}`]), ...s.pending.map((p) => [`  ${p.version}`, p.name, 'pending'])];
  return [
    `store ${s.store}: schema version ${s.current} of ${s.latest}${s.current === s.latest ? ' (up to date)' : ''}`,
    ...(rows.length > 0 ? [formatTable(rows)] : []),
    ...(s.unknown.length > 0 ? [`  versions unknown to this build: ${s.unknown.join(', ')}`] : []),
    '',
  ].join('\n');
}

async function withStore(url: string | undefined, fn: (store: Store) => Promise<number>): Promise<number> {
  let target;
  try {
    target = storeTarget(url);
  } catch (err) {
    if (err instanceof StoreError) throw new UsageError(`shadowbench store: ${err.message} (see 'shadowbench store --help')`);
    throw err;
  }
  const store = await connectStore(target);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export const storeVerb: Verb = {
  name: 'store',
  summary: 'results store: migrate, status, check (drift gate), import a run',
  usage: USAGE,
  options: OPTIONS,
  async run(argv: readonly string[], io: Io): Promise<number> {
    const { values, positionals } = parseVerbArgs('store', argv, OPTIONS, true);
    if (values.help === true) {
      io.out(USAGE);
      return 0;
    }
    const [action, ...extra] = positionals;
    if (action === undefined) throw new UsageError("shadowbench store: missing action: migrate, status, check or import (see 'shadowbench store --help')");
    const wanted = action === 'import' ? 1 : 0;
    if (extra.length > wanted) throw new UsageError(`shadowbench store: unexpected argument '${extra[wanted]}' (see 'shadowbench store --help')`);
    if (extra.length < wanted) throw new UsageError("shadowbench store import: missing run folder (see 'shadowbench store --help')");
    if (values.to !== undefined && action !== 'migrate')
      throw new UsageError("shadowbench store: --to applies to 'migrate' only (see 'shadowbench store --help')");
    const to = values.to === undefined ? undefined : Number(values.to);
    if (to !== undefined && !Number.isInteger(to))
      throw new UsageError(`shadowbench store: --to wants a schema version number, got '${values.to}' (see 'shadowbench store --help')`);
    const json = values.json === true;
    try {
      switch (action) {
        case 'migrate':
          return await withStore(values.store, async (store) => {
            const steps = await migrateTo(store, to);
            const status = await migrationStatus(store);
            if (json) io.out(`${stableJson({ schema: 'shadowbench.store-migrate/1', store: status.store, steps, status })}\n`);
            else {
              for (const s of steps)
                io.out(`${s.direction === 'up' ? 'applied' : 'reverted'} ${s.version} ${s.name}${s.note === undefined ? '' : ` (${s.note})`}\n`);
              if (steps.length === 0) io.out('nothing to do\n');
              io.out(statusText(status));
            }
            return 0;
          });
        case 'status':
          return await withStore(values.store, async (store) => {
            const status = await migrationStatus(store);
            io.out(json ? `${stableJson({ schema: 'shadowbench.store-status/1', ...status })}\n` : statusText(status));
            return 0;
          });
        case 'check':
          return await withStore(values.store, async (store) => {
            const report = await checkStore(store);
            if (json) io.out(`${stableJson({ schema: 'shadowbench.store-check/1', ...report })}\n`);
            else {
              io.out(`store ${report.store}\n`);
              io.out(`${formatTable(report.events.map((e) => [`  ${e.level}`, e.code, e.domain ?? '-', e.detail]))}\n`);
              const s = report.summary;
              io.out(
                `${s.passed ? 'PASS' : 'FAIL'}: ${s.domains} domains (${s.mandatory} mandatory, ${s.should_use} should_use, ${s.optional} optional), schema v${s.schema_version.current}/${s.schema_version.latest}, ` +
                  `${s.drift} drift, round trips ${s.round_trip.passed} passed ${s.round_trip.failed} failed, ${s.errors} errors, ${s.warnings} warnings\n`,
              );
              io.out(`trace_correlation ${s.trace_correlation}\n`);
            }
            return report.summary.passed ? 0 : 1;
          });
        case 'import': {
          // The whole folder is read and checked before the store is touched.
          const folder = readRunFolder(extra[0]!);
          return await withStore(values.store, async (store) => {
            const r = await importRun(store, folder);
            if (json) io.out(`${stableJson({ schema: 'shadowbench.store-import/1', store: describeTarget(store.target), ...r })}\n`);
            else
              io.out(
                `imported run ${r.run_id}: ${r.cells} cells, ${r.histograms} histograms, ${r.fallbacks} fallback(s) into ${describeTarget(store.target)}\n`,
              );
            return 0;
          });
        }
        default:
          throw new UsageError(`shadowbench store: unknown action '${action}' (known: migrate, status, check, import; see 'shadowbench store --help')`);
      }
    } catch (err) {
      if (err instanceof UsageError) throw err;
      if (err instanceof StoreUnavailableError || err instanceof RunFolderError) {
        io.err(`shadowbench store ${action}: ${err.message}\n`);
        return 2;
      }
      // Driver messages may quote the connection string; never let a password through.
      const message = err instanceof Error ? err.message : String(err);
      io.err(`shadowbench store ${action}: ${err instanceof StoreError ? '' : 'store error: '}${redactUrl(message)}\n`);
      return 1;
    }
  },
};
