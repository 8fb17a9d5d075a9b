// The schema lives in page 0 as length-prefixed JSON, versioned like any
// other page, so a reader's snapshot always carries the schema it was taken under.

import { EngineError } from './errors.ts';
import type { Schema } from './sql/compile.ts';

export function encodeSchema(schema: Schema, pageSize: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(schema));
  if (json.byteLength + 4 > pageSize) throw new EngineError('misuse', `schema does not fit in one ${pageSize}-byte page`, {});
  const page = new Uint8Array(pageSize);
  new DataView(page.buffer).setUint32(0, json.byteLength, true);
  page.set(json, 4);
  return page;
}

export function decodeSchema(page: Uint8Array): Schema {
  const len = new DataView(page.buffer, page.byteOffset, page.byteLength).getUint32(0, true);
  if (len === 0 || len + 4 > page.byteLength) throw new EngineError('corrupt', 'schema page is empty or truncated', {});
  const parsed = JSON.parse(new TextDecoder().decode(page.subarray(4, 4 + len))) as Schema;
  if (!Array.isArray(parsed.columns)) throw new EngineError('corrupt', 'schema page has no column list', {});
  return parsed;
}
