import { describe, expect, onTestFinished } from 'vitest';
import { it } from '../support/bot-test.js';
import { APPROVERS } from '../support/bot-harness.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { planCard, reachesState } from '../support/e2e-helpers.js';

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** The value of one sample line of the Prometheus text format, or 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inner = line.slice(name.length + 1, line.indexOf('}'));
    if (wanted.every((w) => inner.split(',').includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('health, readiness and metrics on HTTP_PORT', () => {
  let redis: OwnRedis | undefined;
  /** After the bot closes (onTestFinished runs after the `bot` fixture's cleanup), so its workers stop against a live Redis. */
  const stopRedis = async (): Promise<void> => {
    await redis?.stop().catch(() => undefined);
    redis = undefined;
  };

  it('counts commands, Slack calls, jobs, snapshot and down-step durations and incidents by state as a rollback runs', async ({
    bot,
  }) => {
    const h = await bot();
    const port = h.bot.opsPort!;
    expect(await get(port, '/healthz')).toEqual({ status: 200, body: '{"status":"ok"}' });
    const ready = await get(port, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({
      status: 'ok',
      checks: { state_db: 'ok', redis: 'ok', workers: 'ok', slack: 'ok' },
    });

    const before = (await get(port, '/metrics')).body;
    expect(before).toContain('migrate_bot_process_resident_memory_bytes');
    expect(sample(before, 'migrate_bot_commands_total', { command: 'rollback', outcome: 'ok' })).toBe(0);

    await h.command('rollback 007');
    await h.command('rollback nope-not-a-migration');
    const { incidentId } = await planCard(h);
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await reachesState(h, incidentId, 'resolved');

    // The prepare job ends after the snapshot (it finishes the schema check), which may be after the
    // rollback on a loaded machine; each job's `completed` event follows the state change it made.
    await expect
      .poll(
        async () =>
          sample((await get(port, '/metrics')).body, 'migrate_bot_job_duration_seconds_count', {
            queue: 'incidents',
            job: 'prepare',
            outcome: 'completed',
          }),
        { timeout: 15_000 },
      )
      .toBe(1);
    await expect
      .poll(
        async () =>
          sample((await get(port, '/metrics')).body, 'migrate_bot_job_duration_seconds_count', {
            queue: 'rollbacks',
            outcome: 'completed',
          }),
        { timeout: 5000 },
      )
      .toBe(1);
    const after = (await get(port, '/metrics')).body;
    expect(sample(after, 'migrate_bot_commands_total', { command: 'rollback', outcome: 'ok', surface: 'slack' })).toBe(
      1,
    );
    expect(
      sample(after, 'migrate_bot_commands_total', { command: 'rollback', outcome: 'refused', surface: 'slack' }),
    ).toBe(1);
    expect(sample(after, 'migrate_bot_slack_api_calls_total', { method: 'conversations.create', error: 'ok' })).toBe(1);
    expect(
      sample(after, 'migrate_bot_slack_api_calls_total', { method: 'chat.postMessage', error: 'ok' }),
    ).toBeGreaterThanOrEqual(4);
    // The destructive plan's confirmation modals open through the bot's own paced, counted client, not Bolt's.
    expect(h.slack.callsTo('views.open').length).toBe(2);
    expect(sample(after, 'migrate_bot_slack_api_calls_total', { method: 'views.open', error: 'ok' })).toBe(2);
    expect(
      sample(after, 'migrate_bot_job_duration_seconds_count', {
        queue: 'incidents',
        job: 'prepare',
        outcome: 'completed',
      }),
    ).toBe(1);
    expect(sample(after, 'migrate_bot_job_duration_seconds_count', { queue: 'rollbacks', outcome: 'completed' })).toBe(
      1,
    );
    expect(sample(after, 'migrate_bot_snapshot_duration_seconds_count', { provider: 'pg_dump', outcome: 'ok' })).toBe(
      1,
    );
    expect(
      sample(after, 'migrate_bot_down_step_duration_seconds_count', { tool: 'knex', outcome: 'done' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'migrate_bot_incidents', { state: 'resolved' })).toBe(1);
    // The two commands' work after their acks is done: nothing waits or runs.
    expect(after).toMatch(/^migrate_bot_post_ack_work\{state="waiting"\} 0$/m);
    expect(after).toMatch(/^migrate_bot_post_ack_work\{state="running"\} 0$/m);
  });

  it('counts Slack errors by their code, 429s as ratelimited', async ({ bot }) => {
    const h = await bot();
    h.slack.fault('conversations.create', { status: 429, retryAfterSec: 1 });
    h.slack.failNext('pins.add', 'restricted_action');
    await h.command('rollback 007');
    await planCard(h); // the channel was made after Slack's Retry-After
    const metrics = async (): Promise<string> => (await get(h.bot.opsPort!, '/metrics')).body;
    await expect
      .poll(
        async () =>
          sample(await metrics(), 'migrate_bot_slack_api_calls_total', {
            method: 'pins.add',
            error: 'restricted_action',
          }),
        { timeout: 10_000 },
      )
      .toBe(1);
    const text = await metrics();
    expect(
      sample(text, 'migrate_bot_slack_api_calls_total', { method: 'conversations.create', error: 'ratelimited' }),
    ).toBe(1);
    expect(sample(text, 'migrate_bot_slack_api_calls_total', { method: 'conversations.create', error: 'ok' })).toBe(1);
  });

  it('/readyz answers 503 naming Redis when Redis stops, and 200 again when it is back', async ({ bot }) => {
    redis = await startOwnRedis();
    onTestFinished(stopRedis);
    const h = await bot({}, { redisUrl: redis.url });
    const port = h.bot.opsPort!;
    expect((await get(port, '/readyz')).status).toBe(200);
    await redis.stop();
    const down = await get(port, '/readyz');
    expect(down.status).toBe(503);
    const body = JSON.parse(down.body) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('unavailable');
    expect(body.checks.state_db).toBe('ok');
    expect(body.checks.redis).not.toBe('ok');
    expect((await get(port, '/healthz')).status).toBe(200); // liveness does not depend on Redis
    expect(body.checks.workers).toMatch(/worker connections are not ready/);
    await redis.start();
    // Ready again only once the workers' own connections are back too.
    await expect.poll(async () => (await get(port, '/readyz')).status, { timeout: 15_000, interval: 250 }).toBe(200);
  });
});
