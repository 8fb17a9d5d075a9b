// The one path between typed models and tables. Every row is validated by its
// zod model on the way in and on the way out, encoded per column kind (JSON as
// text, booleans as 0/1 on SQLite), and written only by the domain's owner
// module as named in the policy matrix.

import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { StoreError, type Store } from './connect.ts';
import { MODELS, modelFor, type DomainName, type ModelDef } from './models.ts';
import { REPO_ROOT, committedPolicy } from './policy.ts';
import { columnKinds, type ColumnKind } from './schema.ts';

type ModelOf<D extends DomainName> = Extract<(typeof MODELS)[number], { domain: D }>;
export type RowOf<D extends DomainName> = z.infer<ModelOf<D>['schema']>;

export class OwnershipError extends Error {
  override readonly name = 'OwnershipError';
}

/** A row that does not fit its model: nothing was written (or returned). */
export class ModelValidationError extends StoreError {
  constructor(readonly domain: string, readonly issues: z.core.$ZodIssue[], key = '') {
    super(`${domain}${key === '' ? '' : ` ${key}`}: row does not fit its model: ${issues.map((i) => `${i.path.join('.') || '(row)'}: ${i.message}`).join('; ')}`);
  }
}

function validate(model: ModelDef, row: unknown): Record<string, unknown> {
  const r = model.schema.safeParse(row);
  if (!r.success) {
    const o = (typeof row === 'object' && row !== null ? row : {}) as Record<string, unknown>;
    throw new ModelValidationError(model.domain, r.error.issues, model.primary_key.map((k) => String(o[k] ?? '?')).join('/'));
  }
  return r.data as Record<string, unknown>;
}

function encode(kind: ColumnKind, v: unknown, store: Store): unknown {
  if (v === null) return null;
  if (kind === 'json') return JSON.stringify(v);
  // better-sqlite3 binds no booleans.
  if (kind === 'boolean' && store.dialect === 'sqlite') return v ? 1 : 0;
  return v;
}

function decode(kind: ColumnKind, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (kind === 'json') return JSON.parse(String(v));
  if (kind === 'boolean') return v === true || v === 1 || v === 1n;
  if (kind === 'integer' || kind === 'double') return Number(v);
  return v;
}

/** Typed access to one domain, handed only to its owner module. */
export interface DomainAccess<D extends DomainName> {
  domain: D;
  owner: string;
  /** Inserts a row; with `upsert`, replaces the row that has the same primary key. */
  write(store: Store, row: RowOf<D>, opts?: { upsert?: boolean }): Promise<void>;
  /** Rows whose columns equal `where` (all rows when omitted), ordered by primary key. */
  read(store: Store, where?: Partial<RowOf<D>>): Promise<RowOf<D>[]>;
  remove(store: Store, where: Partial<RowOf<D>>): Promise<number>;
}

/**
 * Binds a domain to the calling module. `moduleUrl` is the caller's
 * import.meta.url; it must be the domain's owner_module in the policy matrix,
 * so a second module that tries to write a domain fails at load time.
 */
export function ownerAccess<D extends DomainName>(moduleUrl: string, domain: D): DomainAccess<D> {
  const owner = relative(REPO_ROOT, fileURLToPath(moduleUrl)).split('\\').join('/');
  const policy = committedPolicy().domains.find((d) => d.domain === domain);
  if (policy === undefined) throw new OwnershipError(`store: domain '${domain}' is not classified in the policy matrix`);
  if (policy.owner_module !== owner) throw new OwnershipError(`store: ${owner} may not write '${domain}': its owner is ${policy.owner_module}`);
  const model = modelFor(domain)!;
  const table: string = domain; // Kysely sees an untyped database; the model does the typing.
  const kinds = columnKinds(model);

  const whereRows = (where: Record<string, unknown>, store: Store) => Object.entries(where).map(([k, v]) => [k, encode(kinds.get(k) ?? 'text', v, store)] as const);

  return {
    domain,
    owner,
    async write(store, row, opts = {}) {
      const valid = validate(model, row);
      const values = Object.fromEntries([...kinds].map(([k, kind]) => [k, encode(kind, valid[k], store)]));
      let q = store.db.insertInto(table).values(values);
      if (opts.upsert === true) {
        const rest = Object.fromEntries(Object.entries(values).filter(([k]) => !model.primary_key.includes(k)));
        q = q.onConflict((oc) => oc.columns(model.primary_key).doUpdateSet(rest));
      }
      await q.execute();
    },
    async read(store, where = {}) {
      let q = store.db.selectFrom(table).selectAll();
      for (const [k, v] of whereRows(where, store)) q = q.where(k, v === null ? 'is' : '=', v);
      for (const k of model.primary_key) q = q.orderBy(k);
      const rows = (await q.execute()) as Record<string, unknown>[];
      return rows.map((r) => validate(model, Object.fromEntries([...kinds].map(([k, kind]) => [k, decode(kind, r[k])]))) as RowOf<D>);
    },
    async remove(store, where) {
      let q = store.db.deleteFrom(table);
      for (const [k, v] of whereRows(where, store)) q = q.where(k, v === null ? 'is' : '=', v);
      const r = await q.executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
