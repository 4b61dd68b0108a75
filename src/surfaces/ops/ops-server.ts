import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { redactSecrets } from '../../shared/redact.js';

/** One dependency `/readyz` checks; `check` throws (or rejects) when it is not usable. */
export interface ReadinessCheck {
  /** Short name shown in the answer: `state_db`, `redis`, `slack`. */
  name: string;
  check(): Promise<void>;
}

/** Options of {@link startOpsServer}. */
export interface OpsServerOptions {
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  /** Interface to bind (`HTTP_BIND`); default all (`::`, which also takes IPv4 on Linux). */
  host?: string;
  /** When set, `/metrics` needs `Authorization: Bearer <metricsToken>` (401 otherwise). */
  metricsToken?: string;
  registry: Registry;
  checks: readonly ReadinessCheck[];
  /** A check slower than this counts as failed, ms (default 2000; below Kubernetes' default probe timeout of 1 s × failureThreshold). */
  checkTimeoutMs?: number;
  /** More routes, e.g. the drill console; return true when the request was answered. */
  extra?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean | Promise<boolean>;
}

/** A started ops server. */
export interface OpsServer {
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

/** The result of one readiness pass: `ok` and each dependency's state (`ok` or why not). */
export async function readiness(
  checks: readonly ReadinessCheck[],
  timeoutMs = 2000,
): Promise<{ ok: boolean; checks: Record<string, string> }> {
  const results = await Promise.all(
    checks.map(async (c) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          c.check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [c.name, 'ok'] as const;
      } catch (err) {
        return [c.name, redactSecrets(err instanceof Error ? err.message : String(err)) || 'failed'] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ok: results.every(([, s]) => s === 'ok'), checks: Object.fromEntries(results) };
}

/**
 * The health, readiness and metrics endpoints every role serves (Kubernetes "Configure
 * Liveness, Readiness and Startup Probes"; Prometheus text exposition format):
 * - `GET /healthz` — 200 `{"status":"ok"}` while the process runs (liveness: no dependency is checked,
 *   so a PostgreSQL outage does not get every pod restarted);
 * - `GET /readyz` — 200 when every {@link ReadinessCheck} passes, else 503 naming the failing
 *   dependency and why, e.g. `{"status":"unavailable","checks":{"state_db":"ok","redis":"connect ECONNREFUSED"}}`;
 * - `GET /metrics` — the registry in Prometheus' text format (behind a bearer token when `metricsToken` is set).
 * Anything else is 404 (or goes to `extra`).
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    void route(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(redactSecrets(err instanceof Error ? err.message : String(err)));
    });
  });
  const route = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return json(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/readyz') {
      const result = await readiness(options.checks, options.checkTimeoutMs);
      return json(res, result.ok ? 200 : 503, { status: result.ok ? 'ok' : 'unavailable', checks: result.checks });
    }
    if (req.method === 'GET' && path === '/metrics') {
      if (options.metricsToken && !bearerMatches(req.headers.authorization, options.metricsToken)) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="metrics"' });
        res.end(JSON.stringify({ error: '/metrics needs Authorization: Bearer <METRICS_TOKEN>' }));
        return;
      }
      const body = await options.registry.metrics();
      res.writeHead(200, { 'content-type': options.registry.contentType });
      res.end(body);
      return;
    }
    if (options.extra && (await options.extra(req, res))) return;
    json(res, 404, { error: 'not found', routes: ['/healthz', '/readyz', '/metrics'] });
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** True when `header` is `Bearer <token>`, compared in constant time (no timing hint of the token). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1] ?? '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}
