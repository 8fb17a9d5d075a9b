// The external adapter: an engine in another process, any language, over the
// line protocol (protocol.ts). One peer process per cell round, not per
// connection: the cell's connections must share one database, which separate
// processes could only do through the engine's own storage; one process is
// an engine server with sessions, the model every client/server engine has.

import type { MetadataClass } from '../../../engine/index.ts';
import type { CellDatabase, EngineAdapter } from '../adapter.ts';
import { newSlot } from './channel.ts';
import { PeerError, PeerHost } from './peer.ts';
import { helloSchema, PROTOCOL_VERSION } from './protocol.ts';

export interface ExternalOptions {
  /** A shell command line that starts the peer. */
  command: string;
  /** How long any one request may go unanswered. */
  timeoutMs: number;
}

export const DEFAULT_EXTERNAL_TIMEOUT_MS = 10_000;
/** hello also waits for the host thread and the peer to start (a JVM, a loaded machine): this much on top of the timeout. */
const STARTUP_MS = 20_000;

export function externalAdapter(o: ExternalOptions): EngineAdapter {
  return {
    variant: 'external',
    // The peer builds its database from the spec at `open`; there is nothing to pin.
    buildFixture: async () => ({ path: null, sha256: null }),
    async openCell(spec, _fixture, co, dir): Promise<CellDatabase> {
      const slots = Array.from({ length: co.concurrency }, newSlot);
      const peer = new PeerHost(o.command, slots, o.timeoutMs);
      let hello;
      try {
        const parsed = helloSchema.safeParse(await peer.call('hello', { protocol: PROTOCOL_VERSION }, STARTUP_MS));
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new PeerError(
            `external engine \`${o.command}\` answered hello wrongly: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''} (protocol ${PROTOCOL_VERSION} expected)`,
          );
        }
        hello = parsed.data;
        await peer.call('open', {
          backend: co.backend,
          fsync: spec.engine.fsync,
          rows: spec.fixture.rows,
          initial_balance: spec.fixture.initial_balance,
          connections: co.concurrency,
          dir,
        });
      } catch (err) {
        await peer.close();
        throw err;
      }
      const engine = hello.engine;
      return {
        handle: { variant: 'external', command: o.command, slots, timeout_ms: o.timeoutMs },
        shared: null,
        reported: Object.keys(hello.fields) as MetadataClass[],
        async stateHash() {
          const h = await peer.call('state_hash');
          if (typeof h !== 'string' || h === '')
            throw new PeerError(`external engine \`${o.command}\` answered state_hash with ${JSON.stringify(h)}, not a hash string`);
          return h;
        },
        describe: () => ({
          variant: 'external',
          backend: co.backend,
          faults: {},
          fault_injection_active: false,
          details: { command: o.command, engine, protocol: PROTOCOL_VERSION, timeout_ms: o.timeoutMs },
        }),
        async close() {
          try {
            await peer.call('close');
          } catch {
            // a peer that failed already has its cause recorded by the round
          }
          await peer.close();
        },
      };
    },
  };
}
