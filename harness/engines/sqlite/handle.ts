// What a worker needs to open a connection onto a SQLite cell database.

export type SqliteSynchronous = 'OFF' | 'NORMAL' | 'FULL';

export interface SqliteHandle {
  variant: 'sqlite';
  path: string;
  synchronous: SqliteSynchronous;
  busy_timeout_ms: number;
}

/** The one table: the fixture's rows, keyed like the reference engine's pages (1..rows). */
export const TABLE = 'accounts';
