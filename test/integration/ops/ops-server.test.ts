/**
 * The ops port: `/metrics` behind a bearer token when `METRICS_TOKEN` is set (probes stay open),
 * and bound to the interface `HTTP_BIND` names (127.0.0.1 unless the image says 0.0.0.0).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadEnv } from '../../../src/config/env.js';
import { createMetrics } from '../../../src/surfaces/ops/metrics.js';
import { type OpsServer, startOpsServer } from '../../../src/surfaces/ops/ops-server.js';

const TOKEN = 'metrics-token-0123456789abcdef';

describe('ops server access', () => {
  let ops: OpsServer | undefined;
  afterEach(async () => {
    await ops?.close();
    ops = undefined;
  });

  it('answers /metrics only with the bearer token when one is set; /healthz and /readyz need none', async () => {
    ops = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      registry: createMetrics().registry,
      checks: [],
      metricsToken: TOKEN,
    });
    const url = (p: string) => `http://127.0.0.1:${ops!.port}${p}`;
    const none = await fetch(url('/metrics'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(
      (await fetch(url('/metrics'), { headers: { authorization: 'Bearer wrong-token-0123456789abcd' } })).status,
    ).toBe(401);
    const ok = await fetch(url('/metrics'), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('migrate_bot_commands_total');
    expect((await fetch(url('/healthz'))).status).toBe(200);
    expect((await fetch(url('/readyz'))).status).toBe(200);
  });

  it('binds the interface HTTP_BIND names, 127.0.0.1 unless set; anything but an IP address is refused at start', async () => {
    const base = {
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: 'abcdefgh',
      DATABASE_URL: 'postgres://x/y',
      REDIS_URL: 'redis://x',
    };
    const env = loadEnv(base);
    expect(env.HTTP_BIND).toBe('127.0.0.1');
    expect(loadEnv({ ...base, HTTP_BIND: '0.0.0.0' }).HTTP_BIND).toBe('0.0.0.0');
    expect(() => loadEnv({ ...base, HTTP_BIND: 'everywhere' })).toThrow(/HTTP_BIND: must be an IP address/);
    ops = await startOpsServer({ port: 0, host: env.HTTP_BIND, registry: createMetrics().registry, checks: [] });
    expect(ops.server.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
  });
});
