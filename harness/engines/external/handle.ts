// What a worker needs to talk to a cell's external engine: its connection's
// request slot (shared with the peer host thread), and what to say on failure.

export interface ExternalHandle {
  variant: 'external';
  /** The peer's command line, for error messages. */
  command: string;
  /** One slot per connection (see channel.ts). */
  slots: SharedArrayBuffer[];
  timeout_ms: number;
}
