// OpenTelemetry spans of a run, on the main thread, from the sampled field
// records the window deltas carry (anomalies always, a few per class and
// window otherwise). One span per record: named `<metadata_class>.<operation>`,
// started and ended at the record's start_ns / end_ns, its attributes the
// card's required fields verbatim (plus the non-card diagnostics torn,
// session_not_found and diverged_fields when present, and mode_set / cell_id).
//
// Resource attributes (run, variant, backend, workload, concurrency, mode_set)
// differ per cell, so each cell gets its own tracer provider (the SDK's
// BasicTracerProvider, from @opentelemetry/sdk-node's `tracing`), never a
// global one: no NodeSDK globals to unregister, a second run in the same
// process starts clean. Processors are explicit (BatchSpanProcessor with a
// large queue), so nothing exports to localhost:4318 by default.
//
// Exporters: OTLP/HTTP (JSON, POST <endpoint>/v1/traces) when --otlp URL or
// OTEL_EXPORTER_OTLP_ENDPOINT is set; else JSON lines in <run-dir>/spans.jsonl.
// Spans the batch processor drops (queue full) or the exporter fails are
// counted: ended = exported + failed + dropped.

import { appendFileSync, writeFileSync } from 'node:fs';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { core, resources, tracing } from '@opentelemetry/sdk-node';
import { ROOT_CONTEXT, TraceFlags, trace, type Attributes, type Context, type HrTime } from '@opentelemetry/api';
import { REQUIRED_FIELDS, type FieldRecord } from '../../engine/index.ts';
import type { Cell } from '../plan/matrix.ts';
import type { WindowDelta } from '../record/recorder.ts';
import type { FallbackEvent } from '../cards/evaluator.ts';
import { parseHttpUrl } from './http-url.ts';

export interface SpanSinkOptions {
  run: string;
  /** OTLP/HTTP endpoint (base, or ending in /v1/traces); null: the JSON-lines file. */
  otlp: string | null;
  /** Where the JSON-lines file goes when there is no OTLP endpoint. */
  file: string;
  /** BatchSpanProcessor queue size (default 65536: sampled records are bounded per window). */
  maxQueueSize?: number;
  /**
   * How often the processor exports on its own (default: once an hour). A run
   * calls `flush()` between groups instead, so no export competes with a
   * measured slice.
   */
  scheduledDelayMillis?: number;
}

export interface SpanReport {
  destination: string;
  ended: number;
  exported: number;
  failed: number;
  dropped: number;
  errors: string[];
}

export class SpanUrlError extends Error {
  override readonly name = 'SpanUrlError';
}

/** The OTLP traces URL for --otlp or OTEL_EXPORTER_OTLP_ENDPOINT; throws SpanUrlError. */
export function otlpTracesUrl(text: string): string {
  const u = parseHttpUrl('--otlp', text, 'http://127.0.0.1:4318', (m) => new SpanUrlError(m), ' (OTLP/HTTP)');
  if (/\/v1\/traces\/?$/.test(u.pathname)) return u.toString();
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/v1/traces`;
  return u.toString();
}

/** Epoch ns (a float: precise to ~256 ns at today's epoch) → OTel HrTime. */
export function hrTime(ns: number): HrTime {
  const s = Math.floor(ns / 1e9);
  return [s, Math.min(999_999_999, Math.max(0, Math.round(ns - s * 1e9)))];
}

const EXTRA_FIELDS = ['torn', 'session_not_found'] as const;

export function spanAttributes(r: FieldRecord): Attributes {
  const f = r as unknown as Record<string, unknown>;
  const a: Attributes = {};
  for (const field of REQUIRED_FIELDS[r.metadata_class]) {
    const v = f[field];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') a[field] = v;
  }
  for (const field of EXTRA_FIELDS) if (typeof f[field] === 'boolean') a[field] = f[field] as boolean;
  if (Array.isArray(f['diverged_fields'])) a['diverged_fields'] = JSON.stringify(f['diverged_fields']);
  return a;
}

const HEX32 = /^[0-9a-f]{32}$/;

/**
 * The span's own trace id is the record's `trace_id` (the engine's id of the
 * transaction, 32 hex digits): spans are started under a remote parent that
 * carries it, so every record of one transaction lands in one trace.
 */
function transactionContext(traceId: string): Context | undefined {
  if (!HEX32.test(traceId) || /^0+$/.test(traceId)) return undefined;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: traceId.slice(0, 16), traceFlags: TraceFlags.SAMPLED, isRemote: true });
}

/** Counts what reaches the exporter, so drops are visible. */
class CountingExporter implements tracing.SpanExporter {
  exported = 0;
  failed = 0;
  readonly errors: string[] = [];
  constructor(private readonly inner: tracing.SpanExporter) {}
  export(spans: tracing.ReadableSpan[], done: (r: core.ExportResult) => void): void {
    this.inner.export(spans, (r) => {
      if (r.code === core.ExportResultCode.SUCCESS) this.exported += spans.length;
      else {
        this.failed += spans.length;
        if (this.errors.length < 5) this.errors.push(r.error?.message ?? 'export failed');
      }
      done(r);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

const hrToNs = (t: HrTime): string => (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();

/** One JSON object per span and line: ids, name, start/end in epoch ns, attributes, resource. */
class JsonLinesExporter implements tracing.SpanExporter {
  constructor(private readonly file: string) {}
  export(spans: tracing.ReadableSpan[], done: (r: core.ExportResult) => void): void {
    try {
      const lines = spans.map((s) =>
        JSON.stringify({
          trace_id: s.spanContext().traceId,
          span_id: s.spanContext().spanId,
          name: s.name,
          start_ns: hrToNs(s.startTime),
          end_ns: hrToNs(s.endTime),
          attributes: s.attributes,
          resource: s.resource.attributes,
        }),
      );
      appendFileSync(this.file, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
      done({ code: core.ExportResultCode.SUCCESS });
    } catch (err) {
      done({ code: core.ExportResultCode.FAILED, error: err as Error });
    }
  }
  async shutdown(): Promise<void> {}
}

interface CellTracer {
  provider: tracing.BasicTracerProvider;
  tracer: ReturnType<tracing.BasicTracerProvider['getTracer']>;
  exporter: CountingExporter;
}

export class SpanSink {
  readonly destination: string;
  private readonly tracers = new Map<string, CellTracer>();
  private ended = 0;
  private closed = false;

  constructor(private readonly o: SpanSinkOptions) {
    this.destination = o.otlp === null ? o.file : otlpTracesUrl(o.otlp);
    if (o.otlp === null) writeFileSync(o.file, '');
  }

  /** The runner's onWindow: one span per sampled record. */
  onWindow(cell: Cell, delta: WindowDelta): void {
    if (this.closed || delta.samples.length === 0) return;
    const t = this.tracerOf(cell);
    for (const r of delta.samples) {
      const span = t.tracer.startSpan(
        `${r.metadata_class}.${r.operation}`,
        { startTime: hrTime(r.start_ns), attributes: { ...spanAttributes(r), mode_set: cell.modeSet.label, cell_id: cell.id } },
        transactionContext(r.trace_id),
      );
      span.end(hrTime(Math.max(r.end_ns, r.start_ns)));
      this.ended++;
    }
  }

  /** Fallbacks are anomalies: every fired trigger becomes a span, whatever the sampling. */
  onEvents(cell: Cell, events: readonly FallbackEvent[]): void {
    if (this.closed || events.length === 0) return;
    const t = this.tracerOf(cell);
    for (const e of events) {
      const at = Date.parse(e.time) * 1e6;
      const span = t.tracer.startSpan(`fallback.${e.trigger}`, {
        startTime: hrTime(at),
        attributes: {
          metadata_class: e.metadata_class,
          trigger: e.trigger,
          action: e.action,
          round: e.round,
          connection: e.connection,
          observed_value: e.observation.value,
          threshold: e.observation.threshold,
          detail: e.observation.detail,
          kill_switch: e.profile.kind === 'latch' ? 'latch' : `${e.profile.k}/${e.profile.n}`,
          mode_set: cell.modeSet.label,
          cell_id: cell.id,
        },
      });
      span.end(hrTime(at));
      this.ended++;
    }
  }

  /** Exports what is queued now (between groups, when nothing is measured). */
  async flush(): Promise<void> {
    await Promise.all([...this.tracers.values()].map((t) => t.provider.forceFlush().catch(() => undefined)));
  }

  /** Flushes and shuts every provider down; the report says what was exported and dropped. */
  async shutdown(): Promise<SpanReport> {
    this.closed = true;
    const all = [...this.tracers.values()];
    await Promise.all(all.map((t) => t.provider.forceFlush().catch(() => undefined)));
    await Promise.all(all.map((t) => t.provider.shutdown().catch(() => undefined)));
    const exported = all.reduce((n, t) => n + t.exporter.exported, 0);
    const failed = all.reduce((n, t) => n + t.exporter.failed, 0);
    return {
      destination: this.destination,
      ended: this.ended,
      exported,
      failed,
      dropped: Math.max(0, this.ended - exported - failed),
      errors: all.flatMap((t) => t.exporter.errors).slice(0, 5),
    };
  }

  private tracerOf(cell: Cell): CellTracer {
    let t = this.tracers.get(cell.id);
    if (t !== undefined) return t;
    const inner: tracing.SpanExporter = this.o.otlp === null ? new JsonLinesExporter(this.o.file) : new OTLPTraceExporter({ url: this.destination });
    const exporter = new CountingExporter(inner);
    const resource = resources.resourceFromAttributes({
      'service.name': 'shadowbench',
      run: this.o.run,
      variant: cell.variant,
      backend: cell.backend,
      workload: cell.workload.spec.name,
      concurrency: cell.concurrency,
      mode_set: cell.modeSet.label,
    });
    const maxQueueSize = this.o.maxQueueSize ?? 65_536;
    const processor = new tracing.BatchSpanProcessor(exporter, {
      maxQueueSize,
      maxExportBatchSize: Math.min(2048, maxQueueSize),
      scheduledDelayMillis: this.o.scheduledDelayMillis ?? 3_600_000,
      exportTimeoutMillis: 10_000,
    });
    const provider = new tracing.BasicTracerProvider({ resource, spanProcessors: [processor] });
    t = { provider, tracer: provider.getTracer('shadowbench'), exporter };
    this.tracers.set(cell.id, t);
    return t;
  }
}
