import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigrationTool } from '../../src/adapters/migrations/migration-tool-registry.js';
import { DurationSchema } from '../../src/config/duration.js';
import type { MigrationTool, StepControl } from '../../src/domain/rollback/migration-tool.js';
import type { PlanStep } from '../../src/domain/rollback/plan.js';
import { migrationsToRevert, resolveMigration } from '../../src/domain/rollback/plan.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { serviceConfigFor } from '../support/service-config.js';
import { query } from '../support/e2e-helpers.js';
import { userText } from '../support/words.js';
import type { AppError } from '../../src/shared/errors.js';

/**
 * A down that hangs has a way out: its `step_timeout` (statement_timeout and a deadline) and a
 * forced stop (an aborted signal) cancel the bot's own session, terminate it when the cancel is
 * not enough (a JS down awaiting something else), and give the step up; the step's transaction
 * rolls back, so the tracking table still lists it. Knex migrations written for this file.
 */
const MIGRATIONS: Record<string, string> = {
  '001_base.js': `
    exports.up = (knex) => knex.raw('CREATE TABLE base (id int)');
    exports.down = (knex) => knex.raw('DROP TABLE base');`,
  '002_sleepy.js': `
    exports.up = (knex) => knex.raw('CREATE TABLE sleepy (id int)');
    exports.down = async (knex) => { await knex.raw('DROP TABLE sleepy'); await knex.raw('SELECT pg_sleep(3600)'); };`,
  '003_hangs.js': `
    exports.up = (knex) => knex.raw('CREATE TABLE hangs (id int)');
    exports.down = async (knex) => { await knex.raw('DROP TABLE hangs'); await new Promise(() => {}); };`,
};

const names = Object.keys(MIGRATIONS);

describe('a down migration that hangs is stopped and rolled back', () => {
  let db: TestDatabase;
  let dir: string;
  let tool: MigrationTool;
  let steps: PlanStep[];

  beforeAll(async () => {
    db = await createTestDatabase('mb_stepstop');
    dir = await mkdtemp(path.join(os.tmpdir(), 'mb-stepstop-'));
    for (const [name, body] of Object.entries(MIGRATIONS)) await writeFile(path.join(dir, name), body);
    const service = serviceConfigFor(db.url, 'sleepy-service', {
      tool: 'knex',
      directory: dir,
      table: 'knex_migrations',
      schema: 'public',
    });
    tool = createMigrationTool(service, silentLogger, { captureTimeoutMs: 300 });
    await tool.migrateUp!(names.map((name, i) => ({ name, order: i + 1, appliedAt: null })));
    const applied = await tool.listApplied();
    steps = await tool.describeDown(migrationsToRevert(applied, resolveMigration(applied, '002')));
  });
  afterAll(async () => {
    await tool?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const running = async () =>
    query<{ pid: number }>(
      db.url,
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(3600)%' AND pid <> pg_backend_pid()",
    );

  it('plans a JS down that never settles as not runnable, with the reason, instead of hanging the plan', async () => {
    const hangs = steps.find((s) => s.migration === '003_hangs.js')!;
    expect(hangs.irreversible).toContain('did not finish within 0.3 s in the dry run');
    expect(steps.find((s) => s.migration === '002_sleepy.js')!.irreversible).toBeUndefined();
  });

  it('cancels a statement that runs past step_timeout; the step rolls back and nothing is left running', async () => {
    const sleepy = steps.find((s) => s.migration === '002_sleepy.js')!;
    const control: StepControl = { stepTimeout: DurationSchema.parse('1s'), graceMs: 2000 };
    const started = performance.now();
    const err = (await tool
      .withRollbackLock(() => tool.runDown(sleepy, DurationSchema.parse('1s'), control))
      .catch((e: unknown) => e)) as AppError;
    expect(err).toMatchObject({ code: 'rollback_step_timeout' });
    expect(userText(err)).toContain('`002_sleepy.js` ran longer than its `step_timeout` of 1s and was cancelled');
    expect(userText(err)).toContain('Its transaction was rolled back, so it changed nothing.');
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(await running()).toEqual([]);
    expect((await tool.listApplied()).map((m) => m.name)).toContain('002_sleepy.js');
    expect(await query(db.url, "SELECT to_regclass('public.sleepy')::text AS t")).toEqual([{ t: 'sleepy' }]);
  });

  it('stops a running statement when the signal aborts, carrying who asked', async () => {
    const sleepy = steps.find((s) => s.migration === '002_sleepy.js')!;
    const abort = new AbortController();
    const control: StepControl = { stepTimeout: DurationSchema.parse('30min'), signal: abort.signal, graceMs: 2000 };
    const run = tool.withRollbackLock(() => tool.runDown(sleepy, DurationSchema.parse('1s'), control));
    await expect.poll(running, { timeout: 10_000 }).toHaveLength(1);
    abort.abort({ by: 'U0SRE001', force: true });
    const err = await run.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'rollback_step_stopped', details: { reason: { by: 'U0SRE001' } } });
    expect(await running()).toEqual([]);
    expect((await tool.listApplied()).map((m) => m.name)).toContain('002_sleepy.js');
  });

  it('gives up a JS down that awaits forever: the session is terminated and the call returns', async () => {
    // Planned with a longer dry-run limit it would still hang there: run it as the plan would have it.
    const hangs: PlanStep = { ...steps.find((s) => s.migration === '003_hangs.js')!, irreversible: undefined };
    const abort = new AbortController();
    const control: StepControl = { stepTimeout: DurationSchema.parse('30min'), signal: abort.signal, graceMs: 300 };
    const run = tool.withRollbackLock(() => tool.runDown(hangs, DurationSchema.parse('1s'), control));
    setTimeout(() => abort.abort({ by: 'U0SRE001', force: true }), 300);
    const err = await run.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'rollback_step_stopped' });
    // The transaction that dropped `hangs` died with its session: the table and the tracking row remain.
    expect(await query(db.url, "SELECT to_regclass('public.hangs')::text AS t")).toEqual([{ t: 'hangs' }]);
    expect(await query(db.url, "SELECT name FROM knex_migrations WHERE name = '003_hangs.js'")).toEqual([
      { name: '003_hangs.js' },
    ]);
  });
});
