// Worker side: a connection onto the cell database a handle names. The
// comparators' modules (better-sqlite3, zod) load on first use, so a pool
// thread that only ever runs the reference engine does not pay for them.

import { connect } from '../../engine/index.ts';
import { loadBuild } from './build.ts';
import type { ConnectionSinks, EngineConnection, EngineHandle } from './connection.ts';

export async function connectEngine(handle: EngineHandle, connection: number, sinks: ConnectionSinks): Promise<EngineConnection> {
  switch (handle.variant) {
    case 'reference':
      return (handle.build === undefined ? connect : (await loadBuild(handle.build)).connect)(handle.shared, { sink: sinks.rows });
    case 'sqlite':
      return new (await import('./sqlite/connection.ts')).SqliteConnection(handle, sinks);
    case 'external':
      return new (await import('./external/connection.ts')).ExternalConnection(handle, connection, sinks);
  }
}
