// The ordered list of schema migrations. Add a file NNNN_<what>.ts exporting a
// Migration with `up` and `down`, and append it here; never edit or reorder a
// released one (a fix is a new migration).

import type { Migration } from './migration.ts';
import { m0001 } from './0001_initial.ts';
import { m0002 } from './0002_nightly.ts';
import { m0003 } from './0003_runs_queryable.ts';

export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003];

export const LATEST_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);
