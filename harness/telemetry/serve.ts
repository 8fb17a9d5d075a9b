// Exposition of a run's metrics: `/metrics` on a loopback port while the run
// goes on, and a push of the final values to a Pushgateway at the end.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunMetrics } from './metrics.ts';
import { parseHttpUrl } from './http-url.ts';

export interface MetricsServer {
  port: number;
  url: string;
  /** Scrapes served so far. */
  scrapes(): number;
  close(): Promise<void>;
}

/** Serves GET /metrics on 127.0.0.1:port (port 0: an ephemeral port, for tests). */
export function serveMetrics(metrics: RunMetrics, port: number): Promise<MetricsServer> {
  let scrapes = 0;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain' }).end(path === '/metrics' ? 'GET only\n' : 'see /metrics\n');
      return;
    }
    metrics.text().then(
      (body) => {
        scrapes++;
        res.writeHead(200, { 'content-type': metrics.contentType }).end(body);
      },
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const p = (server.address() as AddressInfo).port;
      resolve({
        port: p,
        url: `http://127.0.0.1:${p}/metrics`,
        scrapes: () => scrapes,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

export class PushUrlError extends Error {
  override readonly name = 'PushUrlError';
}

/** Checks a Pushgateway base URL (http or https, no query or fragment); throws PushUrlError. */
export function parsePushUrl(text: string): URL {
  const u = parseHttpUrl('--push', text, 'http://127.0.0.1:9091', (m) => new PushUrlError(m));
  if (u.search !== '' || u.hash !== '') throw new PushUrlError(`--push: '${text}' must not have a query or fragment`);
  return u;
}

export interface PushResult {
  ok: boolean;
  url: string;
  /** HTTP status, or null when the gateway could not be reached. */
  status: number | null;
  message: string;
}

/**
 * PUTs the registry to `<base>/metrics/job/shadowbench/run/<run>` (the run's
 * group is replaced as a whole). Never throws: an unreachable or refusing
 * gateway is reported in the result.
 */
export async function pushMetrics(metrics: RunMetrics, base: URL, timeoutMs = 10_000): Promise<PushResult> {
  const url = new URL(`${base.pathname.replace(/\/+$/, '')}/metrics/job/shadowbench/run/${encodeURIComponent(metrics.run)}`, base).toString();
  try {
    const body = await metrics.text();
    const res = await fetch(url, { method: 'PUT', body, headers: { 'content-type': metrics.contentType }, signal: AbortSignal.timeout(timeoutMs) });
    const text = (await res.text()).trim();
    if (res.ok) return { ok: true, url, status: res.status, message: `pushed to ${url} (HTTP ${res.status})` };
    return {
      ok: false,
      url,
      status: res.status,
      message: `Pushgateway ${url} refused the push: HTTP ${res.status}${text === '' ? '' : `: ${text.slice(0, 500)}`}`,
    };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.cause?.code ?? e.cause?.message ?? e.message;
    return { ok: false, url, status: null, message: `Pushgateway ${url} unreachable: ${why}` };
  }
}
