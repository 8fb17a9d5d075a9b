// Synthetic nights shaped like the quick suite's: six workloads (each with
// its operation kinds) × c1, c4 × legacy, shadow_compare, new; per round a
// machine drift shared by the arms of a round, per arm heavy-tailed noise
// (Student t with 3 degrees of freedom, plus stalls that cost a whole round a
// third of its throughput), and per night a level shift of every cell (the
// machine under the VM changes between nights). The per-pair log-ratio sd of
// throughput matches what was measured here (about 0.1 at c1, more at c4);
// median latency is steadier, p99 far less. A slowdown can be given to the
// `new` arm of one workload (within the run) or to every cell (against the
// baseline).

import { Xorshift32 } from '../../harness/shared/random.ts';
import type { CellRecord, RunRecord } from '../../harness/results/record.ts';
import type { RoundSummary } from '../../harness/run/runner.ts';

const KINDS: Record<string, string[]> = {
  'commutative-inserts': ['concurrent_write'],
  'hot-page-contention': ['concurrent_write'],
  'mixed-read-write': ['read', 'concurrent_write', 'wait'],
  'memory-repeated-writes': ['write', 'read'],
  'visibility-schema-change': ['read', 'concurrent_write', 'prepare'],
  'checkpoint-churn': ['concurrent_write', 'read'],
};
const MODES = {
  legacy: { M1: 'legacy', M6: 'legacy', M11: 'legacy' },
  shadow_compare: { M1: 'shadow_compare', M6: 'shadow_compare', M11: 'shadow_compare' },
  new: { M1: 'polling', M6: 'snapshot', M11: 'sharded' },
} as const;

export interface NightShape {
  rounds: number;
  /** Per-arm noise scale (log) of throughput at c1; c4 has 1.5 times it; p50 0.4 times, p99 3 times. */
  sigma: number;
  /** Night-to-night sd (log) of every cell's level. */
  night_sigma: number;
  /** Round-to-round machine drift (log sd), shared by the arms of a round. */
  drift: number;
  /** Chance that an arm's round stalls (a third of its throughput lost, its latencies up by half). */
  stall: number;
}

/** The quick suite's shape today: six rounds, about 0.1 per-pair sd of throughput at c1. */
export const QUICK: NightShape = { rounds: 6, sigma: 0.07, night_sigma: 0.03, drift: 0.1, stall: 0.03 };

export class Noise {
  private rng: Xorshift32;
  constructor(seed: number) {
    this.rng = new Xorshift32(seed);
  }
  normal(): number {
    const u = Math.max(this.rng.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng.next());
  }
  /** Student t with 3 degrees of freedom, scaled to unit sd. */
  heavy(): number {
    const chi = this.normal() ** 2 + this.normal() ** 2 + this.normal() ** 2;
    return this.normal() / Math.sqrt(chi / 3) / Math.sqrt(3);
  }
  chance(p: number): boolean {
    return this.rng.chance(p);
  }
}

export interface Slowdown {
  /** Relative slowdown of throughput and p50 (0.1: 10% fewer ops/s, 10% more latency). */
  size: number;
  /** Only the `new` arm of this workload (within the run); absent: every cell of the night. */
  workload?: string;
}

/** One night of the suite, seeded. */
export function syntheticNight(id: string, seed: number, shape: NightShape, slow: Slowdown | null = null): RunRecord {
  const z = new Noise(seed);
  const cells: CellRecord[] = [];
  for (const [workload, kinds] of Object.entries(KINDS)) {
    for (const c of [1, 4]) {
      const sigma = shape.sigma * (c === 4 ? 1.5 : 1);
      const drift = Array.from({ length: shape.rounds }, () => shape.drift * z.normal());
      // The night moves the machine for every arm of a cell alike (what differs between arms is the arm).
      const night = shape.night_sigma * z.normal();
      for (const [mode, control] of Object.entries(MODES)) {
        const hit = slow !== null && (slow.workload === undefined || (slow.workload === workload && mode === 'new')) ? Math.log1p(slow.size) : 0;
        const rounds: RoundSummary[] = drift.map((d, i) => {
          const stall = z.chance(shape.stall) ? Math.log(1.5) : 0;
          const t = 10_000 * Math.exp(d + night - hit + sigma * z.heavy() - stall);
          const latency = Object.fromEntries(
            kinds.map((k, j) => {
              const p50 = (50_000 + 10_000 * j) * Math.exp(-d + night + hit + 0.4 * sigma * z.heavy() + stall * 0.5);
              const p99 = p50 * 4 * Math.exp(3 * sigma * z.heavy() + stall * 2);
              return [k, { count: 1000, p50, p90: p50 * 2, p99, p999: p99 * 2, max: p99 * 3, mean: p50 * 1.2 }];
            }),
          );
          return { round: i + 1, operations: Math.round(t / 5), measured_ms: 200, throughput_ops_s: t, state_hash: null, failures: [], latency_ns: latency };
        });
        cells.push({
          id: `reference.${workload}.memory.c${c}.${mode}`,
          variant: 'reference',
          backend: 'memory',
          workload,
          concurrency: c,
          mode_set: mode,
          control_modes: { ...control },
          faults: {},
          status: 'ok',
          failures: [],
          gaps: [],
          usable_for_gate: true,
          deterministic: false,
          correctness: [],
          notes: [],
          fallback_events: [],
          counterexamples: [],
          operations: 0,
          measured_ms: 0,
          throughput_ops_s: rounds[0]!.throughput_ops_s,
          errors: {},
          rounds,
          histograms_file: 'x.hlog',
        });
      }
    }
  }
  return {
    format: 'shadowbench-run',
    version: 1,
    run_id: id,
    started_at: '2026-11-01T02:00:00.000Z',
    ended_at: '2026-11-01T02:03:00.000Z',
    argv: [],
    config: {
      seed,
      rounds: shape.rounds,
      schedule: 'interleaved',
      quick: true,
      duration_ms: 200,
      mode_sets: [],
      workloads: [],
      backends: null,
      concurrency: null,
      faults: {},
      mode_set_faults: {},
      window_ms: 500,
      trace_recorded: false,
      replay_of: null,
      nightly: 'nightly',
    },
    engine: null,
    schedule_note: null,
    cells,
    totals: { cells: cells.length, failed: 0, with_gaps: 0, correctness_failures: 0, fallbacks: 0 },
    environment: {
      git_commit: 'abc',
      git_dirty: false,
      node_version: 'v20',
      platform: 'linux',
      arch: 'x64',
      kernel: '',
      cpu_model: 'cpu',
      cpu_count: 2,
      total_memory_bytes: 1,
      hardware_signature: 'hw',
    },
  };
}
