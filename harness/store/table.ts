// The one path between typed models and tables. Every row is validated by its
// zod model on the way in and on the way out, encoded per column kind (JSON as
// text, booleans as 0/1 on SQLite), and written only by the domain's owner
// module as named in the policy matrix. Reads are the owner modules' own typed
// queries; they decode what they select here.

import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeleteQueryBuilder, DeleteResult, Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import { StoreError, type Store } from './connect.ts';
import type { Database } from './database.ts';
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
  constructor(
    readonly domain: string,
    readonly issues: z.core.$ZodIssue[],
    key = '',
  ) {
    super(
      `${domain}${key === '' ? '' : ` ${key}`}: row does not fit its model: ${issues.map((i) => `${i.path.join('.') || '(row)'}: ${i.message}`).join('; ')}`,
    );
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

function decodeValue(kind: ColumnKind, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (kind === 'json') return JSON.parse(String(v));
  if (kind === 'boolean') return v === true || v === 1 || v === 1n;
  if (kind === 'integer' || kind === 'double') return Number(v);
  return v;
}

/** A row as stored in the domain's table (what a select of its columns returns). */
export type StoredRow<D extends DomainName> = Selectable<Database[D]>;

type Delete<D extends DomainName> = DeleteQueryBuilder<Database, D, DeleteResult>;

/**
 * Typed access to one domain, handed only to its owner module: the one way
 * its rows are written (validated, encoded) and decoded. Owner modules query
 * their tables themselves through the typed `store.db` and decode what they
 * select.
 */
export interface DomainAccess<D extends DomainName> {
  domain: D;
  owner: string;
  /** Inserts a row; with `upsert`, replaces the row that has the same primary key. */
  write(store: Store, row: RowOf<D>, opts?: { upsert?: boolean }): Promise<void>;
  /** A selected row as the model's row, validated (extra selected columns are ignored). */
  decode(row: StoredRow<D>): RowOf<D>;
  /** The row with this primary key, if there is one. */
  get(store: Store, key: Partial<RowOf<D>>): Promise<RowOf<D> | undefined>;
  /** Deletes the rows the condition selects; returns how many. */
  remove(store: Store, where: (q: Delete<D>) => Delete<D>): Promise<number>;
}

// Code generic over every domain sees tables and columns by name: table.ts alone, where the model checks every row it passes.
const byName = (store: Store): Kysely<Record<string, Record<string, unknown>>> => store.db.withTables<Record<string, Record<string, unknown>>>();

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
  const table: string = domain; // by name (byName)
  const kinds = columnKinds(model);
  const decode = (row: Readonly<Record<string, unknown>>): RowOf<D> =>
    validate(model, Object.fromEntries([...kinds].map(([k, kind]) => [k, decodeValue(kind, row[k])]))) as RowOf<D>;

  return {
    domain,
    owner,
    async write(store, row, opts = {}) {
      const valid = validate(model, row);
      const values = Object.fromEntries([...kinds].map(([k, kind]) => [k, encode(kind, valid[k], store)]));
      let q = byName(store).insertInto(table).values(values);
      if (opts.upsert === true) {
        const rest = Object.fromEntries(Object.entries(values).filter(([k]) => !model.primary_key.includes(k)));
        q = q.onConflict((oc) => oc.columns(model.primary_key).doUpdateSet(rest));
      }
      await q.execute();
    },
    decode,
    async get(store, key) {
      let q = byName(store).selectFrom(table).selectAll();
      for (const k of model.primary_key) q = q.where(k, '=', encode(kinds.get(k) ?? 'text', (key as Record<string, unknown>)[k] ?? null, store));
      const row = await q.executeTakeFirst();
      return row === undefined ? undefined : decode(row);
    },
    async remove(store, where) {
      const r = await where(store.db.deleteFrom(domain)).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
