/**
 * The worker as a real process, started the README's way (`node --import tsx src/main/main.ts`,
 * what `npm start` and the image run): killed with SIGKILL in the middle of a slow down
 * migration, or stopped with SIGTERM as Docker and Kubernetes do. The Slack app runs in the
 * test process (role `app`); only the child processes run jobs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, onTestFinished } from 'vitest';
import { it, type StartBot } from '../../support/bot-test.js';
import { APPROVERS, type Harness } from '../../support/bot-harness.js';
import { channelTexts, eventually, planCard, posted, query, reachesState } from '../../support/e2e-helpers.js';
import type { TestDatabase } from '../../support/postgres.js';
import { createSlowServiceDb, SLOW_SERVICE, SLOW_TABLES } from '../../support/slow-service.js';
import { createTestDatabase } from '../../support/postgres.js';
import { existingRelations, migrateUpLikeGolangMigrate, SQL_DIR, TOOL_FIXTURES } from '../../support/tool-fixtures.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A worker process of the bot, with its output kept for failure messages. */
interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }>;
  /** Resolves once the worker says it is ready (its ops port opens last, after every worker connection answered). */
  ready: Promise<void>;
}

function startWorker(h: Harness, extraEnv: Record<string, string> = {}): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/main.ts', '--role', 'worker'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...h.rawEnv, LOG_LEVEL: 'info', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const collect = (d: Buffer): void => {
    out += d.toString();
    if (out.includes('health, readiness and metrics listening')) markReady();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let signalledAt = 0;
  const kill = child.kill.bind(child);
  child.kill = (signal?: NodeJS.Signals | number) => {
    signalledAt = Date.now();
    return kill(signal);
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, afterMs: Date.now() - signalledAt })),
  );
  return { child, output: () => out, exited, ready };
}

const appliedIn = async (db: TestDatabase) =>
  (await query<{ name: string }>(db.url, 'SELECT name FROM knex_migrations ORDER BY id')).map((r) => r.name);
const lockOf = async (db: TestDatabase) =>
  (await query<{ is_locked: number }>(db.url, 'SELECT is_locked FROM knex_migrations_lock'))[0]!.is_locked;
const stepsDone = async (h: Harness, incidentId: string) =>
  (
    await query<{ m: string }>(
      h.stateDb.url,
      "SELECT data->>'migration' AS m FROM incident_events WHERE incident_id = $1 AND type = 'step_done' ORDER BY id",
      [incidentId],
    )
  ).map((r) => r.m);

/** The three worker-process tests; each has a file of its own beside this one, so they run in parallel. */
export type WorkerProcessTest = 'sigkill' | 'sigterm' | 'sql-dirty';

/** Registers the worker-process test `which` (a real `node --import tsx src/main/main.ts --role worker`). */
export function workerProcessTests(which: WorkerProcessTest): void {
  describe('the worker process', () => {
    /** `it`, for the one test of this file only (the others are not registered). */
    const only = (
      name: WorkerProcessTest,
      title: string,
      fn: (bot: StartBot) => Promise<void>,
      timeoutMs = 60_000,
    ): void => {
      if (name === which) it(title, ({ bot }) => fn(bot), timeoutMs);
    };
    let slow: TestDatabase | undefined;
    const workers: WorkerProcess[] = [];
    // Before the bot closes (afterEach runs before the `bot` fixture's cleanup): no worker outlives it.
    afterEach(() => {
      for (const w of workers.splice(0))
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    });
    /** After the bot closes (onTestFinished runs after the fixture's cleanup). */
    const dropSlow = async (): Promise<void> => {
      await slow?.drop();
      slow = undefined;
    };

    /** Opens `rollback 001` on the slow service, approves it, and waits until step 2 (the 3 s down of 002) is running. */
    async function rollbackIntoStepTwo(bot: StartBot): Promise<{ h: Harness; incidentId: string; channel: string }> {
      slow = await createSlowServiceDb(3);
      onTestFinished(dropSlow);
      const h = await bot(SLOW_SERVICE, {
        ticketDatabaseUrl: slow.url,
        role: 'app',
        env: { JOB_LOCK_SECONDS: '2' },
      });
      workers.push(startWorker(h));
      // A real process compiles with tsx first: under a loaded machine that alone takes seconds.
      await Promise.race([workers.at(-1)!.ready, workers.at(-1)!.exited]);
      await h.command('rollback 001');
      const card = await planCard(h);
      await posted(h, 'Snapshot saved');
      await h.press('incident_approve', card.incidentId, APPROVERS[0]);
      await h.press('incident_approve', card.incidentId, APPROVERS[1]);
      await eventually('step 1 committed', async () => !(await appliedIn(slow!)).includes('003_add_order_audit.ts'));
      await new Promise((r) => setTimeout(r, 500)); // step 2 is now inside its 3 s down migration
      expect(await appliedIn(slow)).toContain('002_add_order_notes.ts');
      return { h, ...card };
    }

    only(
      'sigkill',
      'killed with SIGKILL mid-rollback and restarted: no committed step runs twice, the stale knex lock is taken over, and it finishes',
      async (bot) => {
        const { h, incidentId, channel } = await rollbackIntoStepTwo(bot);
        workers[0]!.child.kill('SIGKILL');
        await workers[0]!.exited;
        expect(await lockOf(slow!), 'the knex lock row the dead worker set').toBe(1);

        workers.push(startWorker(h, { JOB_LOCK_SECONDS: '2' }));
        await reachesState(h, incidentId, 'resolved', 60_000).catch((err: Error) => {
          throw new Error(`${err.message}\nworker output:\n${workers[1]!.output().slice(-3000)}`);
        });
        expect(await stepsDone(h, incidentId)).toEqual([
          '003_add_order_audit.ts',
          '002_add_order_notes.ts',
          '001_create_orders.ts',
        ]);
        expect(await appliedIn(slow!)).toEqual([]);
        expect(await lockOf(slow!)).toBe(0);
        const tables = await query<{ t: string | null }>(
          slow!.url,
          'SELECT to_regclass(x)::text AS t FROM unnest($1::text[]) AS x',
          [SLOW_TABLES],
        );
        expect(tables.map((r) => r.t).filter(Boolean)).toEqual([]);
        await eventually(
          'the channel to say the lock was taken over and the rollback completed',
          async () => {
            const texts = channelTexts(h, channel);
            return texts.some((t) => t.includes('took it over')) && texts.some((t) => t.includes('Rollback complete.'));
          },
          30_000,
        );
      },
    );

    only(
      'sigterm',
      'stopped with SIGTERM mid-rollback: finishes the step in progress, hands the job back, exits 0 within the grace period; the next worker completes it',
      async (bot) => {
        const { h, incidentId } = await rollbackIntoStepTwo(bot);
        const first = workers[0]!;
        first.child.kill('SIGTERM');
        const exit = await first.exited;
        expect(exit.code, first.output().slice(-2000)).toBe(0);
        expect(exit.afterMs).toBeLessThan(25_000); // SHUTDOWN_GRACE_SECONDS default
        // Step 2 completed (never cut in the middle), step 3 was not started, the lock was released.
        expect(await appliedIn(slow!)).toEqual(['001_create_orders.ts']);
        expect(await lockOf(slow!)).toBe(0);
        expect(
          (await query<{ state: string }>(h.stateDb.url, 'SELECT state FROM incidents WHERE id = $1', [incidentId]))[0]!
            .state,
        ).toBe('rolling_back');

        workers.push(startWorker(h, { JOB_LOCK_SECONDS: '2' }));
        await reachesState(h, incidentId, 'resolved', 60_000);
        expect(await stepsDone(h, incidentId)).toEqual([
          '003_add_order_audit.ts',
          '002_add_order_notes.ts',
          '001_create_orders.ts',
        ]);
        expect(await appliedIn(slow!)).toEqual([]);
      },
    );
    only(
      'sql-dirty',
      'plain SQL: SIGKILL inside a down leaves the version visibly dirty (golang-migrate protocol); the next worker reverts it again and clears it',
      async (bot) => {
        const dir = await mkdtemp(path.join(os.tmpdir(), 'mb-slow-sql-'));
        try {
          await cp(SQL_DIR, dir, { recursive: true });
          await writeFile(
            path.join(dir, '002_add_event_reminders.down.sql'),
            'SELECT pg_sleep(3);\nDROP TABLE IF EXISTS event_reminders;\n',
          );
          const base = TOOL_FIXTURES.find((f) => f.label.startsWith('sql (golang'))!;
          const fixture = {
            ...base,
            migrations: { tool: 'sql', directory: dir },
            async createDb() {
              const db = await createTestDatabase('mb_slow_sql');
              await migrateUpLikeGolangMigrate(db.url, 'single', { dir });
              return db;
            },
          };
          const h = await bot({}, { fixture, role: 'app', env: { JOB_LOCK_SECONDS: '2' } });
          const version = async () =>
            (
              await query<{ version: string; dirty: boolean }>(
                h.ticketDb.url,
                'SELECT version::text AS version, dirty FROM schema_migrations',
              )
            )[0];
          workers.push(startWorker(h));
          await Promise.race([workers.at(-1)!.ready, workers.at(-1)!.exited]);
          await h.command('rollback 002');
          const { incidentId } = await planCard(h);
          await posted(h, 'Snapshot saved');
          await h.press('incident_approve', incidentId, APPROVERS[0]);
          await h.press('incident_approve', incidentId, APPROVERS[1]);
          await eventually(
            'step 2 marked dirty and running',
            async () => (await version())?.dirty === true && (await version())?.version === '2',
          );
          await new Promise((r) => setTimeout(r, 500));
          workers[0]!.child.kill('SIGKILL');
          await workers[0]!.exited;
          expect(await version(), 'the version being reverted stays dirty after the crash').toEqual({
            version: '2',
            dirty: true,
          });
          expect(await existingRelations(h.ticketDb.url, ['event_reminders'])).toEqual(['event_reminders']);

          workers.push(startWorker(h, { JOB_LOCK_SECONDS: '2' }));
          await reachesState(h, incidentId, 'resolved', 60_000).catch((err: Error) => {
            throw new Error(`${err.message}\nworker output:\n${workers[1]!.output().slice(-3000)}`);
          });
          expect(await version()).toEqual({ version: '1', dirty: false });
          expect(await existingRelations(h.ticketDb.url, ['event_reminders', 'users_display_name_idx'])).toEqual([]);
          expect(await stepsDone(h, incidentId)).toEqual(['003_add_users_profile_columns', '002_add_event_reminders']);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    );
  });
}
