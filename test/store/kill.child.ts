// Child for kill.test.ts: commits one audit-log row, then writes rows forever
// inside one transaction, touching `marker` once it is well inside it. The
// parent SIGKILLs it there.

import { writeFileSync } from 'node:fs';
import { openStore } from '../../harness/store/connect.ts';
import { recordFallback } from '../../harness/store/domains/fallbacks.ts';
import { ensureReady } from '../../harness/store/migrate.ts';

const [path, marker] = process.argv.slice(2) as [string, string];
const store = openStore({ dialect: 'sqlite', path });
await ensureReady(store);
const row = (id: string) =>
  ({
    id,
    occurred_at: '2026-01-01T00:00:00.000Z',
    engine_variant: 'v',
    metadata_class: 'M6',
    from_mode: 'snapshot',
    to_mode: 'legacy',
    reason: 'kill test',
    actor: 'child',
    run_id: null,
  }) as const;
await recordFallback(store, row('committed'));
await store.db.transaction().execute(async (trx) => {
  for (let i = 0; ; i++) {
    await recordFallback({ ...store, db: trx }, row(`in-flight-${i}`));
    if (i === 1000) writeFileSync(marker, 'inside');
  }
});
