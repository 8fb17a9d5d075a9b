// The Grafana dashboards of dashboards/, as data: each panel is a title, a unit
// and PromQL expressions over the metric names of ./metrics.ts. The JSON files
// in dashboards/ are generated from here (`node --import tsx
// harness/telemetry/dashboards.ts`), and test/telemetry checks they are up to
// date and that every expression returns data from a real Prometheus. The
// rendered JSON is typed by Grafana's published schema (@grafana/schema), so a
// dashboard Grafana's schema rejects does not typecheck.
//
// Every expression filters on the dashboard variables ($run, $workload,
// $backend, $concurrency, $mode_set: multi-value regexes, "All" = .*) and uses
// $__rate_interval for ranges.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  DashboardCursorSync,
  LegendDisplayMode,
  PercentChangeColorMode,
  SortOrder,
  TooltipDisplayMode,
  VariableHide,
  VariableRefresh,
  VariableSort,
  VizOrientation,
  type Dashboard,
  type DataQuery,
  type DataSourceRef,
  type Panel,
  type VariableModel,
} from '@grafana/schema';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type { Options as TimeSeriesOptions } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

export const DASHBOARD_VARIABLES = ['run', 'workload', 'backend', 'concurrency', 'mode_set'] as const;

/** The cell selector every expression carries. */
const S = DASHBOARD_VARIABLES.map((v) => `${v}=~"$${v}"`).join(',');
const R = '$__rate_interval';

export interface PanelSpec {
  title: string;
  unit: string;
  /** [expr, legend] pairs. */
  targets: [string, string][];
  description?: string;
  kind?: 'timeseries' | 'stat';
}

export interface DashboardSpec {
  uid: string;
  file: string;
  title: string;
  description: string;
  panels: PanelSpec[];
}

const q = (quantile: number, metric: string, by: string, extra = ''): string =>
  `histogram_quantile(${quantile}, sum by (le, ${by}) (rate(${metric}_bucket{${S}${extra}}[${R}])))`;
const mean = (metric: string, by: string, extra = ''): string =>
  `sum by (${by}) (rate(${metric}_sum{${S}${extra}}[${R}])) / sum by (${by}) (rate(${metric}_count{${S}${extra}}[${R}]))`;
const rate = (metric: string, by: string, extra = ''): string => `sum by (${by}) (rate(${metric}{${S}${extra}}[${R}]))`;
const increase = (metric: string, by: string, extra = ''): string => `sum by (${by}) (increase(${metric}{${S}${extra}}[${R}]))`;

/** A card field's p99 and mean per control mode, for one class. */
const recordDistribution = (title: string, field: string, cls: string): PanelSpec => ({
  title,
  unit: 'short',
  targets: [
    [q(0.99, `shadowbench_record_${field}`, 'control_mode', `,metadata_class="${cls}"`), 'p99 {{control_mode}}'],
    [mean(`shadowbench_record_${field}`, 'control_mode', `,metadata_class="${cls}"`), 'mean {{control_mode}}'],
  ],
});

const verdictPanel = (cls: string): PanelSpec => ({
  title: `${cls} shadow verdicts`,
  unit: 'short',
  description: `Field records of ${cls} by shadow_verdict (shadow_compare mode compares both paths; diverged is a correctness failure, inconclusive a commit between the two reads).`,
  targets: [
    [
      increase('shadowbench_shadow_verdicts_total', 'mode_set, shadow_verdict', `,metadata_class="${cls}",shadow_verdict!="none"`),
      '{{mode_set}} {{shadow_verdict}}',
    ],
    [
      `sum by (mode_set) (rate(shadowbench_shadow_verdicts_total{${S},metadata_class="${cls}",shadow_verdict="diverged"}[${R}])) / sum by (mode_set) (rate(shadowbench_shadow_verdicts_total{${S},metadata_class="${cls}",shadow_verdict!="none"}[${R}]))`,
      '{{mode_set}} diverged ratio',
    ],
  ],
});

const fallbackPanel = (cls: string): PanelSpec => ({
  title: `${cls} fallbacks and the mode records ran in`,
  unit: 'short',
  description: `Fallbacks (a class forced back to legacy while the run goes on), and ${cls} field records by the control_mode they actually ran in.`,
  targets: [
    [increase('shadowbench_fallbacks_total', 'mode_set, control_mode', `,metadata_class="${cls}"`), 'fallbacks {{mode_set}} from {{control_mode}}'],
    [
      rate('shadowbench_control_mode_records_total', 'mode_set, record_control_mode', `,metadata_class="${cls}"`),
      '{{mode_set}} records in {{record_control_mode}}',
    ],
  ],
});

export const DASHBOARDS: readonly DashboardSpec[] = [
  {
    uid: 'shadowbench-overview',
    file: 'overview.json',
    title: 'shadowbench / overview',
    description: 'Throughput, latency, errors, shadow verdicts and fallbacks of every cell of a run.',
    panels: [
      {
        title: 'Throughput',
        unit: 'ops',
        targets: [[rate('shadowbench_operations_total', 'workload, backend, concurrency, mode_set'), '{{workload}} {{backend}} c{{concurrency}} {{mode_set}}']],
      },
      {
        title: 'Round throughput',
        unit: 'ops',
        targets: [
          [
            `max by (workload, backend, concurrency, mode_set) (shadowbench_round_throughput_ops_per_second{${S}})`,
            '{{workload}} {{backend}} c{{concurrency}} {{mode_set}}',
          ],
        ],
      },
      {
        title: 'Operation latency p50 / p99',
        unit: 's',
        targets: [
          [q(0.5, 'shadowbench_operation_latency_seconds', 'mode_set, op_kind'), 'p50 {{mode_set}} {{op_kind}}'],
          [q(0.99, 'shadowbench_operation_latency_seconds', 'mode_set, op_kind'), 'p99 {{mode_set}} {{op_kind}}'],
        ],
      },
      { title: 'Service time p99', unit: 's', targets: [[q(0.99, 'shadowbench_operation_service_seconds', 'mode_set, op_kind'), '{{mode_set}} {{op_kind}}']] },
      {
        title: 'Busy and conflicts',
        unit: 'short',
        targets: [
          [rate('shadowbench_busy_total', 'mode_set'), 'busy {{mode_set}}'],
          [rate('shadowbench_conflicts_total', 'mode_set'), 'write_conflict {{mode_set}}'],
          [rate('shadowbench_operation_retries_total', 'mode_set'), 'retries {{mode_set}}'],
        ],
      },
      { title: 'Attempt errors by code', unit: 'short', targets: [[rate('shadowbench_attempt_errors_total', 'error'), '{{error}}']] },
      {
        title: 'Shadow verdicts (all classes)',
        unit: 'short',
        targets: [
          [increase('shadowbench_shadow_verdicts_total', 'metadata_class, shadow_verdict', ',shadow_verdict!="none"'), '{{metadata_class}} {{shadow_verdict}}'],
        ],
      },
      {
        title: 'Fallbacks over time',
        unit: 'short',
        targets: [[increase('shadowbench_fallbacks_total', 'metadata_class, mode_set'), '{{metadata_class}} {{mode_set}}']],
      },
      {
        title: 'Fired triggers',
        unit: 'short',
        targets: [
          [
            `sum by (metadata_class, trigger, action) (increase(shadowbench_trigger_events_total{${S}}[${R}])) or on() vector(0)`,
            '{{metadata_class}} {{trigger}} {{action}}',
          ],
        ],
      },
      { title: 'Missing card fields', unit: 'short', kind: 'stat', targets: [[`sum(shadowbench_field_gaps_total{${S}}) or vector(0)`, 'gaps']] },
      { title: 'Window deltas received', unit: 'short', targets: [[rate('shadowbench_windows_total', 'mode_set'), '{{mode_set}}']] },
    ],
  },
  {
    uid: 'shadowbench-m1',
    file: 'm1.json',
    title: 'shadowbench / M1 PublishedPagerState',
    description: 'M1: condvar (legacy) vs polling wait: wait_ns, read_retry_count, poll_spins, torn reads, shadow verdicts.',
    panels: [
      {
        title: 'M1 wait p50 / p99',
        unit: 's',
        targets: [
          [q(0.5, 'shadowbench_wait_seconds', 'control_mode', ',metadata_class="M1"'), 'p50 {{control_mode}}'],
          [q(0.99, 'shadowbench_wait_seconds', 'control_mode', ',metadata_class="M1"'), 'p99 {{control_mode}}'],
        ],
      },
      { title: 'M1 mean wait', unit: 's', targets: [[mean('shadowbench_wait_seconds', 'control_mode', ',metadata_class="M1"'), '{{control_mode}}']] },
      recordDistribution('M1 read_retry_count', 'read_retry_count', 'M1'),
      recordDistribution('M1 poll_spins', 'poll_spins', 'M1'),
      {
        title: 'M1 operations',
        unit: 'ops',
        targets: [[rate('shadowbench_field_records_total', 'control_mode, operation', ',metadata_class="M1"'), '{{control_mode}} {{operation}}']],
      },
      {
        title: 'M1 operation duration p99',
        unit: 's',
        targets: [
          [q(0.99, 'shadowbench_field_operation_duration_seconds', 'control_mode, operation', ',metadata_class="M1"'), '{{control_mode}} {{operation}}'],
        ],
      },
      {
        title: 'M1 torn reads',
        unit: 'short',
        targets: [[increase('shadowbench_torn_reads_total', 'control_mode', ',metadata_class="M1"'), '{{control_mode}}']],
      },
      verdictPanel('M1'),
      fallbackPanel('M1'),
    ],
  },
  {
    uid: 'shadowbench-m6',
    file: 'm6.json',
    title: 'shadowbench / M6 committed state',
    description: 'M6: mutex (legacy) vs snapshot publication: snapshot age (generation lag), generations, alloc_ns, shadow verdicts, fallbacks.',
    panels: [
      {
        title: 'M6 snapshot_age_commits (latest window max)',
        unit: 'short',
        targets: [[`max by (control_mode, workload) (shadowbench_snapshot_age_commits{${S},metadata_class="M6"})`, '{{control_mode}} {{workload}}']],
      },
      recordDistribution('M6 generation lag (snapshot_age_commits per read)', 'snapshot_age_commits', 'M6'),
      {
        title: 'M6 snapshot_generation and publications',
        unit: 'short',
        targets: [
          [`max by (mode_set) (shadowbench_snapshot_generation{${S},metadata_class="M6"})`, 'generation {{mode_set}}'],
          [rate('shadowbench_field_records_total', 'mode_set', ',metadata_class="M6",operation="publish"'), 'publish/s {{mode_set}}'],
        ],
      },
      { title: 'M6 alloc_ns p99', unit: 's', targets: [[q(0.99, 'shadowbench_alloc_seconds', 'control_mode', ',metadata_class="M6"'), '{{control_mode}}']] },
      {
        title: 'M6 operation duration p99',
        unit: 's',
        targets: [
          [q(0.99, 'shadowbench_field_operation_duration_seconds', 'control_mode, operation', ',metadata_class="M6"'), '{{control_mode}} {{operation}}'],
        ],
      },
      {
        title: 'M6 operations',
        unit: 'ops',
        targets: [[rate('shadowbench_field_records_total', 'control_mode, operation', ',metadata_class="M6"'), '{{control_mode}} {{operation}}']],
      },
      verdictPanel('M6'),
      fallbackPanel('M6'),
    ],
  },
  {
    uid: 'shadowbench-m11',
    file: 'm11.json',
    title: 'shadowbench / M11 session registry',
    description: 'M11: global (legacy) vs sharded registry: lock_wait by shard, shard skew, session_not_found, conflicts, fallbacks.',
    panels: [
      {
        title: 'M11 lock_wait p50 / p99',
        unit: 's',
        targets: [
          [q(0.5, 'shadowbench_lock_wait_seconds', 'control_mode', ',metadata_class="M11"'), 'p50 {{control_mode}}'],
          [q(0.99, 'shadowbench_lock_wait_seconds', 'control_mode', ',metadata_class="M11"'), 'p99 {{control_mode}}'],
        ],
      },
      {
        title: 'M11 lock_wait by shard (sampled records)',
        unit: 's',
        targets: [[`max by (control_mode, shard_id) (shadowbench_shard_lock_wait_seconds{${S},metadata_class="M11"})`, '{{control_mode}} shard {{shard_id}}']],
      },
      {
        title: 'M11 sessions begun per shard and shard skew',
        unit: 'short',
        description: 'Sessions begun per shard_id (exact counts), and the busiest shard over the mean shard (1 = even).',
        targets: [
          [increase('shadowbench_shard_sessions_total', 'control_mode, shard_id', ',metadata_class="M11"'), '{{control_mode}} shard {{shard_id}}'],
          [
            `max by (control_mode) (sum by (control_mode, shard_id) (increase(shadowbench_shard_sessions_total{${S},metadata_class="M11"}[${R}]))) / avg by (control_mode) (sum by (control_mode, shard_id) (increase(shadowbench_shard_sessions_total{${S},metadata_class="M11"}[${R}])))`,
            'skew {{control_mode}}',
          ],
        ],
      },
      {
        title: 'M11 active sessions by shard (sampled records)',
        unit: 'short',
        targets: [[`max by (control_mode, shard_id) (shadowbench_shard_active_sessions{${S},metadata_class="M11"})`, '{{control_mode}} shard {{shard_id}}']],
      },
      {
        title: 'M11 active-session spread across shards (sampled)',
        unit: 'short',
        description: 'Spread of active_sessions_in_shard across shards (max - min over the latest sampled record of each shard).',
        targets: [
          [
            `max by (control_mode) (shadowbench_shard_active_sessions{${S},metadata_class="M11"}) - min by (control_mode) (shadowbench_shard_active_sessions{${S},metadata_class="M11"})`,
            '{{control_mode}}',
          ],
        ],
      },
      {
        title: 'M11 active_sessions_in_shard',
        unit: 'short',
        targets: [
          [`max by (control_mode) (shadowbench_active_sessions_in_shard{${S},metadata_class="M11"})`, 'window max {{control_mode}}'],
          [q(0.99, 'shadowbench_record_active_sessions_in_shard', 'control_mode', ',metadata_class="M11"'), 'p99 {{control_mode}}'],
        ],
      },
      {
        title: 'M11 session_not_found',
        unit: 'short',
        targets: [[increase('shadowbench_session_not_found_total', 'control_mode', ',metadata_class="M11"'), '{{control_mode}}']],
      },
      {
        title: 'M11 operations',
        unit: 'ops',
        targets: [[rate('shadowbench_field_records_total', 'control_mode, operation', ',metadata_class="M11"'), '{{control_mode}} {{operation}}']],
      },
      { title: 'Write conflicts', unit: 'short', targets: [[rate('shadowbench_conflicts_total', 'mode_set, workload'), '{{mode_set}} {{workload}}']] },
      verdictPanel('M11'),
      fallbackPanel('M11'),
    ],
  },
  {
    uid: 'shadowbench-keep-local',
    file: 'keep-local.json',
    title: 'shadowbench / keep-local classes',
    description: "M2-M5, M7-M10, M12: instrumented with their cards' fields and verification, not switched.",
    panels: [
      {
        title: 'Keep-local field records',
        unit: 'ops',
        targets: [[rate('shadowbench_field_records_total', 'metadata_class, operation', ',control_mode="keep_local"'), '{{metadata_class}} {{operation}}']],
      },
      {
        title: 'Cache hit ratio (M4, M5, M10)',
        unit: 'percentunit',
        targets: [
          [
            `sum by (metadata_class) (rate(shadowbench_field_flags_total{${S},field="cache_hit",value="true"}[${R}])) / sum by (metadata_class) (rate(shadowbench_field_flags_total{${S},field="cache_hit"}[${R}]))`,
            '{{metadata_class}}',
          ],
        ],
      },
      {
        title: 'cookie_match ratio (M4, M5)',
        unit: 'percentunit',
        targets: [
          [
            `sum by (metadata_class) (rate(shadowbench_field_flags_total{${S},field="cookie_match",value="true"}[${R}])) / sum by (metadata_class) (rate(shadowbench_field_flags_total{${S},field="cookie_match"}[${R}]))`,
            '{{metadata_class}}',
          ],
        ],
      },
      {
        title: 'Boolean card fields (true)',
        unit: 'short',
        targets: [
          [increase('shadowbench_field_flags_total', 'metadata_class, field', ',control_mode="keep_local",value="true"'), '{{metadata_class}} {{field}}'],
        ],
      },
      {
        title: 'M2 read_retry_count p99',
        unit: 'short',
        targets: [[q(0.99, 'shadowbench_record_read_retry_count', 'mode_set', ',metadata_class="M2"'), '{{mode_set}}']],
      },
      {
        title: 'M4 snapshot_age_statements p99',
        unit: 'short',
        targets: [[q(0.99, 'shadowbench_record_snapshot_age_statements', 'mode_set', ',metadata_class="M4"'), '{{mode_set}}']],
      },
      { title: 'M7 refresh_ns p99', unit: 's', targets: [[q(0.99, 'shadowbench_refresh_seconds', 'mode_set', ',metadata_class="M7"'), '{{mode_set}}']] },
      {
        title: 'M9 refresh_reason',
        unit: 'short',
        targets: [[increase('shadowbench_refresh_reasons_total', 'refresh_reason', ',metadata_class="M9"'), '{{refresh_reason}}']],
      },
      { title: 'M10 reset_ns p99', unit: 's', targets: [[q(0.99, 'shadowbench_reset_seconds', 'mode_set', ',metadata_class="M10"'), '{{mode_set}}']] },
      {
        title: 'M12 cache_size p99',
        unit: 'short',
        targets: [[q(0.99, 'shadowbench_record_cache_size', 'mode_set', ',metadata_class="M12"'), '{{mode_set}}']],
      },
      {
        title: 'Keep-local operation duration p99',
        unit: 's',
        targets: [
          [
            q(0.99, 'shadowbench_field_operation_duration_seconds', 'metadata_class, operation', ',control_mode="keep_local"'),
            '{{metadata_class}} {{operation}}',
          ],
        ],
      },
    ],
  },
];

const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/**
 * A Prometheus query of a panel. @grafana/schema types a target only as
 * DataQuery (refId, datasource, hide, queryType): the Prometheus query model
 * lives in the Prometheus data source plugin, whose fields these are.
 */
interface PrometheusTarget extends DataQuery {
  datasource: DataSourceRef;
  expr: string;
  legendFormat: string;
}

/** The two panel plugins used here, with their published option schemas. */
type GrafanaPanel = Omit<Panel, 'type' | 'options' | 'targets'> & { targets: PrometheusTarget[] } & (
    { type: 'timeseries'; options: TimeSeriesOptions } | { type: 'stat'; options: StatOptions }
  );

/** A dashboard as Grafana's published schema (@grafana/schema) types it: a field Grafana would not accept fails the typecheck. */
export type GrafanaDashboard = Omit<Dashboard, 'panels'> & { panels: GrafanaPanel[] };

type PanelBase = Omit<GrafanaPanel, 'type' | 'options'>;

const STAT_OPTIONS: StatOptions = {
  reduceOptions: { calcs: ['lastNotNull'] },
  orientation: VizOrientation.Auto,
  colorMode: BigValueColorMode.Value,
  graphMode: BigValueGraphMode.Area,
  justifyMode: BigValueJustifyMode.Auto,
  textMode: BigValueTextMode.Auto,
  percentChangeColorMode: PercentChangeColorMode.Standard,
  showPercentChange: false,
  wideLayout: true,
};

const TIMESERIES_OPTIONS: TimeSeriesOptions = {
  legend: { displayMode: LegendDisplayMode.List, placement: 'bottom', showLegend: true, calcs: [] },
  tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.None },
};

const panelOf = (kind: PanelSpec['kind'], base: PanelBase): GrafanaPanel =>
  kind === 'stat' ? { type: 'stat', options: STAT_OPTIONS, ...base } : { type: 'timeseries', options: TIMESERIES_OPTIONS, ...base };

/** Grafana dashboard JSON (schema 39) for one spec. */
export function renderDashboard(d: DashboardSpec): GrafanaDashboard {
  const variables: VariableModel[] = [
    { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', hide: VariableHide.dontHide },
    ...DASHBOARD_VARIABLES.map((v): VariableModel => ({
      name: v,
      label: v,
      type: 'query',
      datasource: DATASOURCE,
      query: { query: `label_values(shadowbench_run_info, ${v})`, refId: `${v}-variable` },
      includeAll: true,
      multi: true,
      allValue: '.*',
      refresh: VariableRefresh.onTimeRangeChanged,
      sort: VariableSort.alphabeticalAsc,
      hide: VariableHide.dontHide,
    })),
  ];
  const panels = d.panels.map((p, i) =>
    panelOf(p.kind, {
      id: i + 1,
      title: p.title,
      ...(p.description === undefined ? {} : { description: p.description }),
      datasource: DATASOURCE,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: p.targets.map(([expr, legendFormat], j) => ({ refId: String.fromCharCode(65 + j), datasource: DATASOURCE, expr, legendFormat })),
    }),
  );
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['shadowbench'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: DashboardCursorSync.Crosshair,
    time: { from: 'now-30m', to: 'now' },
    refresh: '10s',
    templating: { list: variables },
    annotations: { list: [] },
    panels,
  };
}

export const dashboardJson = (d: DashboardSpec): string => `${JSON.stringify(renderDashboard(d), null, 2)}\n`;

export const DASHBOARDS_DIR = fileURLToPath(new URL('../../dashboards/', import.meta.url));

export function writeDashboards(dir = DASHBOARDS_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  return DASHBOARDS.map((d) => {
    const file = join(dir, d.file);
    writeFileSync(file, dashboardJson(d));
    return file;
  });
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const f of writeDashboards()) process.stdout.write(`${f}\n`);
}
