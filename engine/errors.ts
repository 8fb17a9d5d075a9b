// Typed engine errors. Callers branch on `code`, never on message text.

export type EngineErrorCode =
  | 'busy' // a lock could not be had within the busy timeout; retry the transaction
  | 'write_conflict' // another transaction committed a page of this write set first
  | 'schema_changed' // a DDL committed after this transaction began
  | 'session_not_found' // M11: the session was not on the shard it routes to
  | 'corrupt' // a WAL or database file failed validation
  | 'io' // the operating system refused a read, write or fsync (disk full, …)
  | 'misuse' // an API call out of order (commit without begin, …)
  | 'config'; // an invalid configuration or fault spec

export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly detail: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/**
 * Whether `err` is an EngineError of this copy of the engine or of another
 * (a bundled copy, e.g. a frozen build run beside this one, throws its own
 * class, which instanceof would not know): by name and code.
 */
export function isEngineError(err: unknown): err is EngineError {
  return err instanceof Error && err.name === 'EngineError' && typeof (err as { code?: unknown }).code === 'string';
}

export function isRetryable(err: unknown): err is EngineError {
  return isEngineError(err) && (err.code === 'busy' || err.code === 'write_conflict' || err.code === 'schema_changed');
}
