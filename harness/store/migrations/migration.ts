// What one schema migration is: a numbered, named step with its way back.

import type { Kysely } from 'kysely';

export interface Migration {
  version: number;
  name: string;
  // Untyped on purpose: a migration is frozen SQL history and must not follow later model changes.
  /** May return a note on what it did to existing rows (a backfill), shown with the step. */
  up(db: Kysely<any>): Promise<string | void>;
  down(db: Kysely<any>): Promise<void>;
}
