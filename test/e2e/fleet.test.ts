/**
 * The fleet as the manifests deploy it: two app processes (the test process and a real
 * `node --import tsx src/main/main.ts --role app`) and two worker processes, on one state
 * database and one Redis, through five concurrent incidents on five services. One incident's
 * rollback job is deleted from Redis while it waits (its database's rollback lock is held by
 * someone else); a rolling restart of a worker (whose start-up reconciler pass finds the lost job)
 * brings it back. All five resolve, each resolution posted once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterEach, describe, expect, onTestFinished } from 'vitest';
import { it } from '../support/bot-test.js';
import { APPROVERS, type Harness } from '../support/bot-harness.js';
import { eventually, query, reachesState } from '../support/e2e-helpers.js';
import { freePort } from '../support/measure.js';
import type { TestDatabase } from '../support/postgres.js';
import { postSlashCommand } from '../support/slack-request.js';
import { SIGNING_SECRET } from '../support/bot-harness.js';
import { TOOL_FIXTURES } from '../support/tool-fixtures.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVICES = ['ticket-service', 'fleet-1', 'fleet-2', 'fleet-3', 'fleet-4'];

interface BotProcess {
  child: ChildProcess;
  output: () => string;
}

function startProcess(h: Harness, role: 'app' | 'worker', env: Record<string, string> = {}): BotProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/main.ts', '--role', role], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...h.rawEnv, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

describe('two apps and two workers on one state database and Redis', () => {
  const processes: BotProcess[] = [];
  const databases: TestDatabase[] = [];
  afterEach(() => {
    for (const p of processes.splice(0))
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  });

  it('resolves five concurrent incidents, one of whose rollback jobs was deleted while it waited', async ({ bot }) => {
    onTestFinished(async () => {
      for (const db of databases.splice(0)) await db.drop();
    });
    const fixture = TOOL_FIXTURES[0]!;
    const extra = await Promise.all(SERVICES.slice(1).map(() => fixture.createDb()));
    databases.push(...extra);
    const h = await bot(
      {},
      {
        role: 'app',
        env: { JOB_LOCK_SECONDS: '2' },
        extraServices: SERVICES.slice(1).map((name, i) => ({ name, databaseUrl: extra[i]!.url })),
      },
    );
    const appPort = await freePort();
    const app2 = startProcess(h, 'app', { PORT: String(appPort), HTTP_PORT: String(await freePort()) });
    processes.push(app2, startProcess(h, 'worker', { HTTP_PORT: '0' }), startProcess(h, 'worker', { HTTP_PORT: '0' }));
    await eventually(
      'the second app to listen',
      async () => app2.output().includes('Slack app listening'),
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${app2.output().slice(-2000)}`);
    });

    // fleet-4's database is busy with someone else's rollback: its job will wait for the lock.
    const holder = new pg.Client({ connectionString: extra[3]!.url });
    await holder.connect();
    onTestFinished(() => holder.end().catch(() => undefined));
    await holder.query("SELECT pg_advisory_lock(hashtext('migrate-bot:rollback')::bigint)");

    // Five commands at once, alternating between the two apps.
    const sent = await Promise.all(
      SERVICES.map((service, i) =>
        i % 2 === 0
          ? h.command(`rollback 007 --service ${service}`)
          : postSlashCommand(`http://127.0.0.1:${appPort}/slack/events`, SIGNING_SECRET, {
              text: `rollback 007 --service ${service}`,
              user_id: 'U0REQ001',
              response_url: h.slack.responseUrl(`fleet-${i}`),
            }),
      ),
    );
    expect(sent.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
    const ids = await eventually(
      'five incidents awaiting approval',
      async () => {
        const rows = await query<{ id: string; service: string }>(
          h.stateDb.url,
          "SELECT id, service FROM incidents WHERE state = 'awaiting_approval' AND snapshot->>'status' = 'available'",
        );
        return rows.length === 5 ? new Map(rows.map((r) => [r.service, r.id])) : null;
      },
      60_000,
    );
    for (const service of SERVICES)
      for (const approver of APPROVERS) await h.press('incident_approve', ids.get(service)!, approver);

    // The waiting job of fleet-4 is deleted from Redis.
    const waiting = ids.get('fleet-4')!;
    const queue = new Queue('rollbacks', { connection: { url: h.rawEnv.REDIS_URL }, prefix: h.rawEnv.QUEUE_PREFIX });
    onTestFinished(() => queue.close());
    await eventually('fleet-4 waiting for its database lock', async () => {
      const jobs = await queue.getJobs(['delayed', 'waiting']);
      const job = jobs.find((j) => (j.data as { incidentId?: string }).incidentId === waiting);
      if (!job) return false;
      // A worker may take it between the read and the removal (it waits by re-delaying itself):
      // then it is locked, and the next read finds it delayed again.
      return job.remove().then(
        () => true,
        (err: Error) => {
          if (/locked by another worker/.test(err.message)) return false;
          throw err;
        },
      );
    });
    for (const service of SERVICES.slice(0, 4)) await reachesState(h, ids.get(service)!, 'resolved', 60_000);
    expect(
      (await query<{ state: string }>(h.stateDb.url, 'SELECT state FROM incidents WHERE id = $1', [waiting]))[0]!.state,
    ).toBe('awaiting_approval');

    // The other rollback ends; a rolling restart of one worker: its start-up reconciler pass queues the lost job again.
    await holder.query("SELECT pg_advisory_unlock(hashtext('migrate-bot:rollback')::bigint)");
    processes[1]!.child.kill('SIGTERM');
    processes.push(startProcess(h, 'worker', { HTTP_PORT: '0' }));
    await reachesState(h, waiting, 'resolved', 60_000);

    await eventually(
      'five resolutions in the channels',
      async () => h.slack.messages().filter((m) => m.text.includes('Rollback complete.')).length >= 5,
      30_000,
    );
    // Each resolution once, whichever process delivered it.
    expect(h.slack.messages().filter((m) => m.text.includes('Rollback complete.'))).toHaveLength(5);
    for (const db of [h.ticketDb, ...extra])
      expect(await query(db.url, "SELECT 1 FROM knex_migrations WHERE name = '007_add_security_tables.ts'")).toEqual(
        [],
      );
  }, 180_000);
});
