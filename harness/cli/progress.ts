// Progress of long work: a bar (cli-progress) when stderr is a terminal,
// plain lines otherwise, so CI logs and pipes stay readable.

import cliProgress from 'cli-progress';
import type { Io } from './verb.ts';

export interface Progress {
  tick(done: number, total: number, label: string): void;
  stop(): void;
}

export function progress(io: Io, enabled: boolean): Progress {
  if (!enabled) return { tick: () => {}, stop: () => {} };
  if (process.stderr.isTTY === true) {
    // Ticks come between slices. One timed redraw a second at most, and it writes nothing
    // unless a tick changed the bar: nothing of the bar runs while a slice is measured.
    const bar = new cliProgress.SingleBar(
      { format: '{bar} {value}/{total} {label}', stream: process.stderr, hideCursor: true, fps: 1 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      tick(done, total, label) {
        if (!started) {
          bar.start(total, 0, { label });
          started = true;
        }
        bar.update(done, { label });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    tick: (done, total, label) => io.err(`[${done}/${total}] ${label}\n`),
    stop: () => {},
  };
}
