// Synthetic nights for the nightly's tests: one cell, six rounds around a
// given throughput, deterministic spread, the fields a stored run has.

import { NIGHT_GATE } from '../../harness/nightly/shape.ts';
import type { GateReport } from '../../harness/gate/report.ts';
import type { CellRecord, RunRecord } from '../../harness/results/record.ts';

export const CELL = 'reference.commutative-inserts.memory.c1.new';
const LEGACY = { M1: 'legacy', M6: 'legacy', M11: 'legacy' } as const;

/** A night whose one cell ran six rounds around `level` ops/s (±`spread` relative, deterministic). */
export function night(id: string, level: number, spread = 0.01): RunRecord {
  const rounds = [1, -1, 0.5, -0.5, 0.2, -0.2].map((d, i) => {
    const t = level * (1 + d * spread);
    return {
      round: i + 1,
      operations: t,
      measured_ms: 1000,
      throughput_ops_s: t,
      state_hash: null,
      failures: [],
      latency_ns: { concurrent_write: { count: 1000, p50: 1e9 / t, p90: 2e9 / t, p99: 4e9 / t, p999: 8e9 / t, max: 1e10 / t, mean: 1.1e9 / t } },
    };
  });
  const cell: CellRecord = {
    id: CELL,
    variant: 'reference',
    backend: 'memory',
    workload: 'commutative-inserts',
    concurrency: 1,
    mode_set: 'new',
    control_modes: LEGACY,
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
    throughput_ops_s: level,
    errors: {},
    rounds,
    histograms_file: 'x.hlog',
  };
  return {
    format: 'shadowbench-run',
    version: 1,
    run_id: id,
    started_at: `2026-11-${id.slice(1).padStart(2, '0')}T02:00:00.000Z`,
    ended_at: '',
    argv: [],
    config: {
      seed: 1,
      rounds: 6,
      schedule: 'interleaved',
      quick: true,
      duration_ms: null,
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
    cells: [cell],
    totals: { cells: 1, failed: 0, with_gaps: 0, correctness_failures: 0, fallbacks: 0 },
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

/** A gate report with one M6 verdict. */
export const gateOf = (verdict: 'hold' | 'rollback' = 'hold'): GateReport => ({
  format: 'shadowbench-gate',
  version: 1,
  run_id: 'x',
  hardware_signature: 'hw',
  git_commit: null,
  fault_injection: false,
  options: NIGHT_GATE,
  verdicts: [
    {
      metadata_class: 'M6',
      verdict,
      rollback_causes: verdict === 'rollback' ? ['zero_contract'] : [],
      reasons: [verdict === 'rollback' ? 'shadow_divergences = 3 (contract: exactly 0)' : 'hold: no gain'],
      comparisons: [],
      inconclusive: false,
      largest_mde: null,
      zero_contracts: [],
      triggers: [],
      not_run: [],
      card: { selected_primitive: '', baseline_comparator: '', promotion_criteria: [] },
    },
  ],
  keep_local_alerts: [],
  unusable_cells: [],
  engine_comparison: [],
  trace_correlation: 'x',
});
