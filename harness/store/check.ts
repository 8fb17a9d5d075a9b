// The drift gate behind `shadowbench store check`. It judges, in order:
//   1. the policy matrix: every model classified, every mandatory domain with a
//      typed model, model names and owner modules unique, owners really own;
//   2. versions: matrix and model agree on the major version; the database is
//      at this build's schema version;
//   3. schema: what the migrations produce (on a scratch in-memory SQLite) and
//      the live database (introspected) both equal what the models declare;
//   4. round trips: every mandatory and should_use domain writes its example
//      row through its owner module, reads it back and compares (rolled back).
// Each finding is a coded event carrying trace_correlation (SHA-256 of the
// canonical policy matrix); any error-level event fails the gate.

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { openStore, type Store } from './connect.ts';
import { migrateTo, migrationStatus } from './migrate.ts';
import { LATEST_VERSION } from './migrations/index.ts';
import { MODELS, type ModelDef } from './models.ts';
import { REPO_ROOT, committedPolicy, traceCorrelation, type PolicyMatrix } from './policy.ts';
import { diffShapes, introspect, modelShape } from './schema.ts';

export type EventCode =
  | 'SQLMODEL_POLICY_LOADED'
  | 'SQLMODEL_MODEL_REGISTERED'
  | 'SQLMODEL_DOMAIN_UNCLASSIFIED'
  | 'SQLMODEL_MODEL_MISSING'
  | 'SQLMODEL_OWNERSHIP_CONFLICT'
  | 'SQLMODEL_CODEGEN_STALE'
  | 'SQLMODEL_VERSION_COMPAT_FAIL'
  | 'SQLMODEL_SCHEMA_DRIFT_DETECTED'
  | 'SQLMODEL_SCHEMA_MATCH'
  | 'SQLMODEL_ROUND_TRIP_PASS'
  | 'SQLMODEL_ROUND_TRIP_FAIL';

export interface StoreEvent {
  code: EventCode;
  level: 'info' | 'warning' | 'error';
  domain: string | null;
  detail: string;
  trace_correlation: string;
}

export interface CheckSummary {
  passed: boolean;
  domains: number;
  mandatory: number;
  should_use: number;
  optional: number;
  models: number;
  schema_version: { current: number; latest: number };
  drift: number;
  round_trip: { passed: number; failed: number };
  errors: number;
  warnings: number;
  trace_correlation: string;
}

export interface CheckReport {
  store: string;
  events: StoreEvent[];
  summary: CheckSummary;
}

/** Something an owner module exports: the typed access it was handed for its domain. */
interface OwnedAccess {
  domain: string;
  owner: string;
  write(store: Store, row: never): Promise<void>;
  get(store: Store, key: Record<string, unknown>): Promise<unknown>;
}

const isAccess = (v: unknown): v is OwnedAccess =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as OwnedAccess).domain === 'string' &&
  typeof (v as OwnedAccess).write === 'function' &&
  typeof (v as OwnedAccess).get === 'function';

export interface CheckOptions {
  matrix?: PolicyMatrix;
  models?: readonly ModelDef[];
  /** Finds the access an owner module exports for a domain (tests substitute it). */
  loadOwner?: (ownerModule: string) => Promise<Record<string, unknown>>;
}

const defaultLoadOwner = (ownerModule: string): Promise<Record<string, unknown>> =>
  import(pathToFileURL(join(REPO_ROOT, ownerModule)).href) as Promise<Record<string, unknown>>;

class Rollback extends Error {}

export async function checkStore(store: Store, opts: CheckOptions = {}): Promise<CheckReport> {
  const matrix = opts.matrix ?? committedPolicy();
  const models = opts.models ?? MODELS;
  const loadOwner = opts.loadOwner ?? defaultLoadOwner;
  const trace = traceCorrelation(matrix);
  const events: StoreEvent[] = [];
  const emit = (code: EventCode, level: StoreEvent['level'], domain: string | null, detail: string) =>
    events.push({ code, level, domain, detail, trace_correlation: trace });

  // 1. Policy matrix and models.
  emit('SQLMODEL_POLICY_LOADED', 'info', null, `${matrix.domains.length} domains`);
  const byDomain = new Map<string, PolicyMatrix['domains'][number]>();
  for (const d of matrix.domains) {
    if (byDomain.has(d.domain)) emit('SQLMODEL_OWNERSHIP_CONFLICT', 'error', d.domain, `domain '${d.domain}' is classified more than once`);
    byDomain.set(d.domain, d);
  }
  const seen = { model: new Map<string, string>(), owner: new Map<string, string>() };
  for (const d of matrix.domains) {
    const prevModel = seen.model.get(d.model_name);
    if (d.model_name !== '' && prevModel !== undefined && prevModel !== d.domain)
      emit('SQLMODEL_OWNERSHIP_CONFLICT', 'error', d.domain, `model ${d.model_name} is claimed by domains '${prevModel}' and '${d.domain}'`);
    seen.model.set(d.model_name, d.domain);
    const prevOwner = seen.owner.get(d.owner_module);
    if (prevOwner !== undefined && prevOwner !== d.domain)
      emit('SQLMODEL_OWNERSHIP_CONFLICT', 'error', d.domain, `owner module ${d.owner_module} is named for domains '${prevOwner}' and '${d.domain}'`);
    seen.owner.set(d.owner_module, d.domain);
    if (d.source === 'codegen' && (d.schema_source === undefined || d.regeneration === undefined)) {
      emit('SQLMODEL_CODEGEN_STALE', 'warning', d.domain, 'codegen domain without schema_source and regeneration policy');
    }
  }
  for (const m of models) {
    if (!byDomain.has(m.domain))
      emit('SQLMODEL_DOMAIN_UNCLASSIFIED', 'error', m.domain, `model ${m.model_name} persists domain '${m.domain}', which the policy matrix does not classify`);
  }
  const accesses = new Map<string, OwnedAccess>();
  for (const d of byDomain.values()) {
    const m = models.find((x) => x.domain === d.domain);
    const needed = d.classification !== 'optional';
    if (m === undefined || !d.typed_model_defined || d.model_name === '') {
      const what = m === undefined ? 'has no typed model' : !d.typed_model_defined ? 'is marked typed_model_defined=false' : 'has no model_name';
      if (d.classification === 'mandatory' || m !== undefined) emit('SQLMODEL_MODEL_MISSING', 'error', d.domain, `${d.classification} domain ${what}`);
      else if (needed) emit('SQLMODEL_MODEL_MISSING', 'warning', d.domain, `should_use domain ${what} (waiver: ${d.rationale})`);
      continue;
    }
    if (m.model_name !== d.model_name) emit('SQLMODEL_MODEL_MISSING', 'error', d.domain, `matrix names model ${d.model_name}, code defines ${m.model_name}`);
    else emit('SQLMODEL_MODEL_REGISTERED', 'info', d.domain, `${m.model_name} ${m.version} (${d.classification}, ${d.source}, owner ${d.owner_module})`);
    if (m.version.split('.')[0] !== d.model_version.split('.')[0]) {
      emit(
        'SQLMODEL_VERSION_COMPAT_FAIL',
        'error',
        d.domain,
        `model ${m.model_name} is ${m.version} in code, ${d.model_version} in the policy matrix (major versions differ)`,
      );
    }
    try {
      const exported = Object.values(await loadOwner(d.owner_module))
        .filter(isAccess)
        .filter((a) => a.domain === d.domain);
      if (exported.length === 1) accesses.set(d.domain, exported[0]!);
      else
        emit(
          'SQLMODEL_OWNERSHIP_CONFLICT',
          'error',
          d.domain,
          `owner module ${d.owner_module} exports ${exported.length} accesses for '${d.domain}' (expected 1)`,
        );
    } catch (err) {
      emit(
        'SQLMODEL_OWNERSHIP_CONFLICT',
        'error',
        d.domain,
        `owner module ${d.owner_module} cannot be loaded as owner: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  // 2. Schema version of the live database.
  const status = await migrationStatus(store);
  const versionOk = status.current === LATEST_VERSION && status.unknown.length === 0;
  if (!versionOk) {
    emit(
      'SQLMODEL_VERSION_COMPAT_FAIL',
      'error',
      'schema_migrations',
      `database is at schema version ${status.current}${status.unknown.length > 0 ? ` (unknown: ${status.unknown.join(', ')})` : ''}, this build needs ${LATEST_VERSION}: run \`shadowbench store migrate\``,
    );
  }

  // 3. Schema: migrations vs models, live database vs models.
  const declared = models.filter((m) => byDomain.has(m.domain)).map(modelShape);
  const scratch = openStore({ dialect: 'sqlite', path: ':memory:' });
  let drift = 0;
  try {
    await migrateTo(scratch);
    for (const line of diffShapes(declared, await introspect(scratch.db, 'sqlite'), { expected: 'the models', actual: 'the migrations' })) {
      drift++;
      emit('SQLMODEL_SCHEMA_DRIFT_DETECTED', 'error', line.split(/[.:]/)[0] ?? null, line);
    }
  } finally {
    await scratch.close();
  }
  if (versionOk) {
    const live = await introspect(store.db, store.dialect);
    for (const t of live)
      if (!byDomain.has(t.name))
        emit('SQLMODEL_DOMAIN_UNCLASSIFIED', 'error', t.name, `table '${t.name}' in the live database is not a domain of the policy matrix`);
    for (const line of diffShapes(declared, live, { expected: 'the models', actual: 'the live database' })) {
      drift++;
      emit('SQLMODEL_SCHEMA_DRIFT_DETECTED', 'error', line.split(/[.:]/)[0] ?? null, line);
    }
    if (drift === 0) emit('SQLMODEL_SCHEMA_MATCH', 'info', null, `${declared.length} tables: migrations, live database and models agree`);
  }

  // 4. Round trips through the owner modules, inside a transaction that is always rolled back.
  const rt = { passed: 0, failed: 0 };
  if (versionOk) {
    for (const d of byDomain.values()) {
      if (d.classification === 'optional') continue;
      const m = models.find((x) => x.domain === d.domain);
      const access = accesses.get(d.domain);
      if (m === undefined || access === undefined) continue;
      const t0 = performance.now();
      let failure: string | null = null;
      try {
        await store.db.transaction().execute(async (trx) => {
          const tx: Store = { ...store, db: trx };
          await access.write(tx, m.example as never);
          const key = Object.fromEntries(m.primary_key.map((k) => [k, (m.example as Record<string, unknown>)[k]]));
          const back = await access.get(tx, key);
          if (back === undefined) failure = 'read back no row';
          else if (!isDeepStrictEqual(back, m.example)) failure = `read back ${JSON.stringify(back)}, wrote ${JSON.stringify(m.example)}`;
          throw new Rollback();
        });
      } catch (err) {
        if (!(err instanceof Rollback)) failure = `error: ${err instanceof Error ? err.message : String(err)}`;
      }
      const ms = (performance.now() - t0).toFixed(1);
      if (failure === null) {
        rt.passed++;
        emit('SQLMODEL_ROUND_TRIP_PASS', 'info', d.domain, `${m.model_name} round trip in ${ms} ms`);
      } else {
        rt.failed++;
        emit('SQLMODEL_ROUND_TRIP_FAIL', 'error', d.domain, `${m.model_name}: ${failure}`);
      }
    }
  }

  const count = (c: string) => matrix.domains.filter((d) => d.classification === c).length;
  const errors = events.filter((e) => e.level === 'error').length;
  return {
    store: status.store,
    events,
    summary: {
      passed: errors === 0,
      domains: matrix.domains.length,
      mandatory: count('mandatory'),
      should_use: count('should_use'),
      optional: count('optional'),
      models: models.length,
      schema_version: { current: status.current, latest: LATEST_VERSION },
      drift,
      round_trip: rt,
      errors,
      warnings: events.filter((e) => e.level === 'warning').length,
      trace_correlation: trace,
    },
  };
}
