// A cell's histograms in HdrHistogram's log format (histograms/<cell>.hlog):
// one tagged interval histogram per field, each HdrHistogram's compressed
// base64 encoding. Written by HdrHistogram's own log writer; read back by a
// strict parser, because HdrHistogram's reader skips a line it cannot parse
// and a truncated file would look complete.

import * as hdr from 'hdr-histogram-js';

/** One histogram of the log. */
export interface HistogramInterval {
  /** The field (e.g. `op.read.latency_ns`). */
  tag: string;
  start_ms: number;
  end_ms: number;
  /** HdrHistogram's compressed base64 encoding (encodeIntoCompressedBase64). */
  data: string;
}

/** A cell's log: the file's text and the histograms it holds. */
export interface HistogramLog {
  text: string;
  intervals: HistogramInterval[];
}

/** A line the log does not hold as written: `line` is 1-based, 0 for the file as a whole. */
export class HlogParseError extends Error {
  override readonly name = 'HlogParseError';
  constructor(readonly line: number, problem: string) {
    super(line === 0 ? problem : `line ${line}: ${problem}`);
  }
}

/** The log of one cell's histograms (tags and timestamps are set on them). */
export function histogramLog(cellId: string, histograms: ReadonlyMap<string, hdr.Histogram>, startMs: number, endMs: number): HistogramLog {
  const lines: string[] = [];
  const writer = new hdr.HistogramLogWriter((s) => lines.push(s));
  writer.outputComment(`shadowbench cell ${cellId}; values in ns (latencies) or units (counts)`);
  writer.outputLogFormatVersion();
  writer.outputStartTime(startMs);
  writer.outputLegend();
  for (const tag of [...histograms.keys()].sort()) {
    const h = histograms.get(tag)!;
    h.tag = tag;
    h.startTimeStampMsec = startMs;
    h.endTimeStampMsec = endMs;
    writer.outputIntervalHistogram(h);
  }
  // Parsed back (without decoding what was just encoded), so memory holds what a reader of the file gets.
  return parseHistogramLog(lines.join(''), { decode: false });
}

// [Tag=<tag>,]<start s>,<length s>,<max>,<compressed base64>, as HistogramLogWriter writes it.
const INTERVAL = /^(?:Tag=([^,]*),)?\s*(\d+(?:\.\d+)?),\s*(\d+(?:\.\d+)?),\s*(\d+(?:\.\d+)?),([A-Za-z0-9+/]+={0,2})$/;
const YEAR_S = 365 * 24 * 3600;

/**
 * The histograms of a log, every line checked: each interval line must parse
 * and (unless `decode` is false) its histogram decode, and the file must end
 * where a line ends. Throws HlogParseError naming the line.
 */
export function parseHistogramLog(text: string, o: { decode?: boolean } = {}): HistogramLog {
  if (text.length === 0) throw new HlogParseError(0, 'empty file (truncated)');
  if (!text.endsWith('\n')) throw new HlogParseError(0, 'does not end with a complete line (truncated)');
  const lines = text.split('\n').slice(0, -1);
  let startS: number | null = null;
  const intervals: HistogramInterval[] = [];
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('"StartTimestamp"')) continue;
    if (line.startsWith('#')) {
      const t = /^#\[StartTime: (\d+(?:\.\d+)?)/.exec(line);
      if (t !== null) startS = Number(t[1]);
      continue;
    }
    const m = INTERVAL.exec(line);
    if (m === null) throw new HlogParseError(i + 1, 'not an interval histogram line (truncated or corrupt)');
    const tag = m[1] ?? '';
    if (o.decode !== false) {
      try {
        hdr.decodeFromCompressedBase64(m[5]!).destroy();
      } catch (err) {
        throw new HlogParseError(i + 1, `histogram '${tag}' does not decode (${(err as Error).message}): truncated or corrupt`);
      }
    }
    // As HdrHistogram's reader: timestamps more than a year before the start time are relative to it.
    const at = Number(m[2]);
    const base = startS !== null && at < startS - YEAR_S ? startS : 0;
    intervals.push({ tag, start_ms: Math.round((base + at) * 1000), end_ms: Math.round((base + at + Number(m[3])) * 1000), data: m[5]! });
  }
  return { text, intervals };
}
