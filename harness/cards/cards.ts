// The decision cards M1–M12 (../shared/seeds/004_…), one typed definition
// each. Wording is the cards' own; thresholds are their values where they
// give one, otherwise the default stated here (all configurable).

import { METADATA_CLASSES, type MetadataClass } from '../../engine/index.ts';
import { countAbove, get, ratioAbove, shardSkew, snapshotChurnNs, writeServiceNs } from './rules.ts';
import type { DecisionCard } from './types.ts';

const KEEP = ['current (keep-local)'] as const;
const NO_SHADOW: readonly string[] = [];

export const CARDS: Readonly<Record<MetadataClass, DecisionCard>> = {
  M6: {
    metadata_class: 'M6', title: 'PagerInner committed state', kind: 'switchable',
    current_primitive: 'Mutex<PagerInner>; every pager.begin() and pager.commit() passes through it',
    selected_primitive: 'Immutable snapshot publication with generation replacement',
    control_modes: ['legacy', 'shadow_compare', 'snapshot'], ev_score: 8, relevance: 'Critical for c4+ file-backed workloads',
    triggers: [
      ratioAbove('M6.alloc_churn', 'snapshot allocation or refcount churn exceeds 5% of commit time', 0.05, 1000,
        snapshotChurnNs, writeServiceNs, 'snapshot alloc + snapshot bind time / write transaction time', (m) => get(m, 'M6.publish')),
      countAbove('M6.shadow_mismatch', 'shadow compare reports any field mismatch', 'M6.shadow_verdict.diverged'),
    ],
    post_run_triggers: [],
    fallback_action: 'force legacy mutex read path and keep publishing diagnostic snapshots only',
    baseline_comparator: 'current Mutex<PagerInner> read-side access during begin/commit',
    promotion_criteria: ['clean shadow_compare runs on the canonical file-backed workloads', 'reduced mutex wait time versus baseline at c4', 'refcount churn does not erase the gain at c8'],
    symptom: 'stale reads immediately after another connection commits',
    diagnostic_cues: ['published snapshot_generation or visible_commit_seq trails the live commit sequence', 'shadow_verdict=diverged'],
    allowed_differences: ['alloc_ns', 'snapshot_age_commits'],
    workloads: ['commutative-inserts', 'mixed-read-write'],
    requirements: [
      { line: 'E2E: file-backed c4 write-heavy replay shows reduced mutex wait time versus baseline', workload: 'commutative-inserts', backend: 'file', concurrency: 4 },
      { line: 'Topology: c8 cross-node run confirms refcount churn does not erase the gain', workload: 'commutative-inserts', concurrency: 8, cross_node: true },
    ],
    zero_contracts: ['M6.shadow_verdict.diverged'],
    rollback_recipe: ['Force legacy mode.', 'Leave snapshot construction optionally enabled for diagnostics only.', 'Drain outstanding snapshots naturally via Arc lifetime.'],
  },
  M1: {
    metadata_class: 'M1', title: 'PublishedPagerState', kind: 'switchable',
    current_primitive: 'seqlock-style atomic summary with a writer-side publish_lock Mutex and sequence_cv Condvar',
    selected_primitive: 'retain the seqlock summary, remove the Condvar, keep bounded retry',
    control_modes: ['legacy', 'shadow_compare', 'polling'], ev_score: 6, relevance: 'High for multi-connection file-backed visibility checks',
    triggers: [
      // The card gives no number: waits that spin four default spin budgets on average have stopped being short polls.
      ratioAbove('M1.spin_budget', 'polling spin budget exceeds threshold', 8192, 50,
        (m) => get(m, 'M1.poll_spins.sum'), (m) => get(m, 'M1.wait'), 'poll spins per wait'),
      countAbove('M1.torn_read', 'concurrent publish/read surfaces a torn field combination', 'M1.torn.true'),
      countAbove('M1.shadow_mismatch', 'forced legacy and polling modes produce different snapshots', 'M1.shadow_verdict.diverged'),
    ],
    post_run_triggers: ['p99 visibility wait regresses against the Condvar baseline'],
    fallback_action: 're-enable Condvar waiting while preserving the seqlock publication layout',
    baseline_comparator: 'current seqlock + publish_lock + sequence_cv implementation',
    promotion_criteria: ['stable retry counts', 'lower p99 wait on the canonical mixed workloads'],
    symptom: 'unusually stale visibility checks or CPU spikes during read polling',
    diagnostic_cues: ['read_retry_count, poll_spins or wait_ns spike above the comparator baseline'],
    allowed_differences: ['read_retry_count', 'poll_spins', 'wait_ns'],
    workloads: ['mixed-read-write'],
    requirements: [
      { line: 'E2E: c8 mixed file-backed workload shows lower wait overhead than the Condvar path', workload: 'mixed-read-write', backend: 'file', concurrency: 8 },
      { line: 'Topology: cross-node run measures whether polling changes tail latency', workload: 'mixed-read-write', cross_node: true },
    ],
    zero_contracts: ['M1.shadow_verdict.diverged', 'M1.torn.true'],
    rollback_recipe: ['Restore Condvar wait path.', 'Keep counters and shadow-compare instrumentation.', 'Preserve the seqlock read contract.'],
  },
  M11: {
    metadata_class: 'M11', title: 'concurrent registry + page-lock table', kind: 'switchable',
    current_primitive: 'global Arc<Mutex<ConcurrentRegistry>> plus CAS fast path in InProcessPageLockTable',
    selected_primitive: 'shard the registry by session id, keep the CAS page-lock table',
    control_modes: ['legacy', 'shadow_compare', 'sharded'], ev_score: 7, relevance: 'High for c8+ file-backed concurrent-writer workloads',
    triggers: [
      countAbove('M11.session_not_found', 'session_not_found above zero tolerance', 'M11.session_not_found.true'),
      countAbove('M11.routing_mismatch', 'commit/abort routing mismatch above zero tolerance', 'M11.shadow_verdict.diverged'),
      // 3x an even share once 400 sessions have begun: hashing sequential ids never gets near it.
      shardSkew('M11.shard_skew', 'shard skew above threshold', 3, 400),
    ],
    post_run_triggers: [],
    fallback_action: 'route all operations back through the legacy global mutex',
    baseline_comparator: 'current single global ConcurrentRegistry mutex plus existing CAS page locks',
    promotion_criteria: ['lower lock wait than the global mutex on c8 hot-page contention', 'no correctness drift'],
    symptom: 'unexpected SQLITE_BUSY or session lookup failures during concurrent traffic',
    diagnostic_cues: ['non-zero session_not_found', 'shard skew above threshold', 'shadow_verdict=diverged'],
    allowed_differences: ['lock_wait_ns', 'active_sessions_in_shard'],
    workloads: ['hot-page-contention', 'commutative-inserts'],
    requirements: [
      { line: 'E2E: c8 hot-page contention replay shows lower registry wait time versus the global mutex comparator', workload: 'hot-page-contention', concurrency: 8 },
      { line: 'Topology: cross-node run checks for shard skew and routing imbalance', workload: 'hot-page-contention', cross_node: true },
    ],
    zero_contracts: ['M11.session_not_found.true', 'M11.shadow_verdict.diverged'],
    rollback_recipe: ['Force legacy mode.', 'Let in-flight sharded sessions drain naturally.', 'Keep shard instrumentation for postmortem analysis.'],
  },
  M2: keepLocal('M2', 'BoundPagerPublication', 'write-once local struct copied at statement entry', 'keep the stack/local binding exactly local', 2,
    [], 'statement runs against a stale publication bind', ['local visible_commit_seq trails the current published sequence at statement entry'], ['mixed-read-write', 'visibility-schema-change']),
  M3: keepLocal('M3', 'schema cookie + generation', 'per-connection scalar invalidation tokens', 'keep local scalar invalidation tokens', 1,
    [], 'stale prepared statement or unnecessary reprepare churn', ['mismatch counters versus prepare cache hit rate'], ['visibility-schema-change']),
  M4: keepLocal('M4', 'cached read snapshot', 'per-connection parked read-only transaction guarded by a local cookie', 'keep per-connection parked snapshot reuse', 5,
    [countAbove('M4.stale_cookie_reuse', 'stale-cookie reuse appears', 'M4.reuse.cookie_match.false')],
    'missed reuse or reuse of a stale read snapshot', ['cache_hit drops unexpectedly or stale-cookie reuse appears'], ['mixed-read-write']),
  M5: keepLocal('M5', 'cached write txn (:memory:)', 'per-connection retained write transaction guarded by a local cookie', 'keep retained local write-transaction reuse for :memory: only', 7,
    [countAbove('M5.stale_cookie_reuse', 'incorrect reuse after invalidation', 'M5.reuse.cookie_match.false'),
      countAbove('M5.file_backed_reuse', 'file-backed paths never route through this optimization', 'M5.park.is_memory.false')],
    'incorrect reuse after invalidation or missing reuse on the hot path', ['reuse/park counters and cookie mismatch events'], ['memory-repeated-writes']),
  M7: keepLocal('M7', 'WAL frame count + checksum state', 'per-handle owned fields refreshed from the WAL file', 'keep the per-handle refresh model', 2,
    [ratioAbove('M7.rebuild_churn', 'reader rebuilds too often', 0.5, 200, (m) => get(m, 'M7.refresh.rebuild_required.true'), (m) => get(m, 'M7.refresh'), 'refreshes that rebuild / refreshes')],
    'reader misses newly visible frames or rebuilds too often', ['rebuild_required frequency, frame-count deltas, refresh latency'], ['checkpoint-churn']),
  M8: keepLocal('M8', 'WAL generation identity', 'per-handle copy-sized identity (checkpoint_seq, salts)', 'keep the copy-sized identity local to the handle', 1,
    [], 'missed checkpoint generation change or needless rebuilds', ['salts mismatch counts and repeated rebuild events'], ['checkpoint-churn']),
  M9: keepLocal('M9', 'MemDB visible commit seq gate', 'per-connection local staleness gate', 'keep the local monotone gate', 3,
    [], 'stale MemDB read after another commit', ['local gate trails authoritative visible sequence'], ['memory-repeated-writes']),
  M10: keepLocal('M10', 'cached VDBE engine', 'per-connection cached engine stored locally', 'keep per-connection engine reuse', 4,
    [ratioAbove('M10.rebuild_churn', 'cached-engine rebuild churn', 0.5, 200, (m) => get(m, 'M10.rebuild'), (m) => get(m, 'M10.rebuild') + get(m, 'M10.reuse'), 'rebuilds / engine acquisitions')],
    'stale bytecode or unexpected recompilation churn', ['cache-hit rate and invalidation reasons'], ['visibility-schema-change']),
  M12: keepLocal('M12', 'parse cache + compiled statement cache', 'per-connection RefCell-backed LRU / compiled-statement cache', 'keep the per-connection cache; reject shared publication for now', 4,
    [ratioAbove('M12.poor_hit_rate', 'poor hit rate or invalidation churn', 0.5, 500, (m) => get(m, 'M12.compile_miss'), (m) => get(m, 'M12.compile_miss') + get(m, 'M12.compile_hit'), 'compile misses / compile lookups')],
    'wrong-plan reuse or unnecessary recompilation', ['compile-hit rate, invalidation rate, and schema-mismatch counts'], ['visibility-schema-change']),
};

function keepLocal(
  cls: MetadataClass, title: string, current: string, selected: string, ev: number,
  triggers: DecisionCard['triggers'], symptom: string, cues: string[], workloads: string[],
): DecisionCard {
  return {
    metadata_class: cls, title, kind: 'keep_local', current_primitive: current, selected_primitive: selected,
    control_modes: KEEP, ev_score: ev, relevance: 'keep-local: instrumented, not switched', triggers, post_run_triggers: [],
    fallback_action: triggers.length === 0 ? 'none specific to this class' : 'alert: tune the local primitive (there is no mode to switch)',
    baseline_comparator: 'the current local primitive', promotion_criteria: [], symptom, diagnostic_cues: cues,
    allowed_differences: NO_SHADOW, workloads, requirements: workloads.map((w) => ({ line: `E2E on ${w}`, workload: w })), zero_contracts: [],
    rollback_recipe: ['The current local primitive is the rollback path.'],
  };
}

/** Every live trigger of every card, by id. */
export const TRIGGERS = new Map(METADATA_CLASSES.flatMap((c) => CARDS[c].triggers.map((t) => [t.id, { card: CARDS[c], rule: t }] as const)));
