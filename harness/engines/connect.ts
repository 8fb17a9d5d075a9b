// Worker side: a connection onto the cell database a handle names.

import { connect } from '../../engine/index.ts';
import type { ConnectionSinks, EngineConnection, EngineHandle } from './connection.ts';
import { ExternalConnection } from './external/connection.ts';
import { SqliteConnection } from './sqlite/connection.ts';

export function connectEngine(handle: EngineHandle, connection: number, sinks: ConnectionSinks): EngineConnection {
  switch (handle.variant) {
    case 'reference':
      return connect(handle.shared, { hook: sinks.onRecord });
    case 'sqlite':
      return new SqliteConnection(handle, sinks);
    case 'external':
      return new ExternalConnection(handle, connection, sinks);
  }
}
