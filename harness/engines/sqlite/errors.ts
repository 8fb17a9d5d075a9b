// SQLite's result codes as the interface's typed errors, so the Driver's
// retry logic applies unchanged.

import { EngineError } from '../../../engine/index.ts';

export function engineError(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return err;
  const message = `sqlite: ${(err as Error).message} (${code})`;
  // BUSY_SNAPSHOT: a read transaction's snapshot is stale for the write it tried, i.e. another writer committed first.
  if (code === 'SQLITE_BUSY_SNAPSHOT') return new EngineError('write_conflict', message, { sqlite_code: code });
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new EngineError('busy', message, { sqlite_code: code });
  if (code === 'SQLITE_SCHEMA') return new EngineError('schema_changed', message, { sqlite_code: code });
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return new EngineError('corrupt', message, { sqlite_code: code });
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL' || code.startsWith('SQLITE_CANTOPEN'))
    return new EngineError('io', message, { sqlite_code: code });
  return new EngineError('misuse', message, { sqlite_code: code });
}
