/**
 * The plan checked against the schemas themselves, for every tool of the registry, on the real
 * PostgreSQL: the files' downs run on a fresh build and compared with the target; migra's SQL from
 * the live schema to the target, proved on a schema-only copy; and the computed step run on the
 * live database by the tool's own `runComputed`, which leaves a schema equal to the target's and a
 * tracking table the tool agrees with.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServices } from '../../src/config/services.js';
import type { ServiceConfig } from '../../src/config/services.js';
import { createMigrationTool } from '../../src/adapters/migrations/migration-tool-registry.js';
import { checkPlanSchema } from '../../src/adapters/schema/plan-schema-check.js';
import { schemaLines, trackingRelations } from '../../src/adapters/postgres/schema-lines.js';
import { computedPlanReason } from '../../src/domain/rollback/plan-schema-check.js';
import { migrationsToRevert, versionOf } from '../../src/domain/rollback/plan.js';
import { silentLogger } from '../../src/shared/logger.js';
import { checkFixture, writeServicesFile, type CheckFixture } from '../support/check-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { query } from '../support/e2e-helpers.js';

const dbs: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
});

/** The service as services.yaml makes it (defaults applied), on `url`. */
async function serviceOn(fixture: CheckFixture, url: string): Promise<ServiceConfig> {
  const file = await writeServicesFile(fixture, 'events', 'PLAN_CHECK_URL');
  return (await loadServices(file, { PLAN_CHECK_URL: url })).services.get('events')!;
}

/** A service on a fresh database migrated up through every file with the tool itself. */
async function liveService(fixture: CheckFixture): Promise<ServiceConfig> {
  const db = await createTestDatabase('mb_plan_check');
  dbs.push(db);
  const service = await serviceOn(fixture, db.url);
  const tool = createMigrationTool(service, silentLogger);
  try {
    const files = await tool.listFiles();
    await tool.migrateUp!(files.map((name, i) => ({ name, order: Number(versionOf(name) ?? i + 1), appliedAt: null })));
  } finally {
    await tool.close();
  }
  return service;
}

const deps = {
  toolFor: (svc: ServiceConfig, url: string) => createMigrationTool({ ...svc, database_url: url }, silentLogger),
  now: () => new Date(),
};

/** The plan of `/migrate rollback <target>` as the bot makes it. */
async function planOf(service: ServiceConfig, target: string) {
  const tool = createMigrationTool(service, silentLogger);
  try {
    const applied = await tool.listApplied();
    return {
      tool,
      plan: await tool.describeDown(migrationsToRevert(applied, applied.find((m) => m.name === target)!)),
    };
  } catch (err) {
    await tool.close();
    throw err;
  }
}

const TOOLS = ['knex', 'node-pg-migrate', 'sql', 'drizzle'] as const;

describe.each(TOOLS)('the plan checked against the schemas with %s', (tool) => {
  it('says the correct downs reach the target, and a down with a typo leaves `audit_log`', async () => {
    const fixture = await checkFixture(tool, true);
    const service = await liveService(fixture);
    const good = fixture.names.at(-2)!;
    const goodService = await liveService(await checkFixture(tool, false));
    {
      const { tool: live, plan } = await planOf(goodService, good);
      try {
        const check = (await checkPlanSchema(goodService, live, plan, deps))!;
        expect(check.downs).toEqual({
          state: 'restore_target',
          difference: { remaining: [], missing: [], changed: [] },
          error: null,
        });
        expect(check.live.matches).toBe('applied');
        expect(computedPlanReason(plan, check)).toBeNull();
      } finally {
        await live.close();
      }
    }
    const { tool: live, plan } = await planOf(service, fixture.typo!);
    try {
      const check = (await checkPlanSchema(service, live, plan, deps))!;
      expect(check.error).toBeNull();
      expect(check.target).toBe(good);
      expect(check.downs.state).toBe('differ');
      expect(check.downs.difference!.remaining).toEqual(['table public.audit_log']);
      expect(check.live.matches).toBe('applied');
      expect(check.computed.error).toBeNull();
      expect(check.computed.unexpressed).toEqual([]);
      const step = check.computed.step!;
      expect(step.sql.join('\n')).toMatch(/drop table "public"\."audit_log"/i);
      expect(step.computed).toEqual({
        reverts: [{ name: fixture.typo, order: expect.any(Number) }],
        target: { name: good, order: expect.any(Number) },
      });
      expect(computedPlanReason(plan, check)).toEqual({ kind: 'downs_differ' });
      expect(check.tested).toEqual([{ migration: fixture.typo, state: 'untested', checkedAt: null }]);

      // The computed step on the live database: the schema equals the target's, the tracking table agrees.
      const exclude = trackingRelations(live);
      await live.withRollbackLock(() => live.runComputed(step, service.lock_timeout));
      const after = await schemaLines(service.database_url, exclude);
      expect(after).toEqual(await schemaLines(goodService.database_url, exclude));
      expect((await live.listApplied()).map((m) => m.name)).toEqual(fixture.names.slice(0, -1));
    } finally {
      await live.close();
    }
    expect(await query(service.database_url, "SELECT to_regclass('public.audit_log') AS t")).toEqual([{ t: null }]);
  });

  it('offers a computed plan for a step without a down', async () => {
    const fixture = await checkFixture(tool, false);
    if (tool === 'knex' || tool === 'sql') {
      // These fixtures have a down everywhere: take one away.
      const file = tool === 'knex' ? '004_add_price_check.js' : '003_add_users_profile_columns.down.sql';
      if (tool === 'knex')
        await writeFile(
          path.join(fixture.directory, file),
          "export async function up(knex) { await knex.raw('ALTER TABLE tickets ADD CONSTRAINT price_nonnegative CHECK (price_cents >= 0)'); }\nexport async function down() { throw new Error('irreversible'); }\n",
        );
      else await import('node:fs/promises').then((fs) => fs.rm(path.join(fixture.directory, file)));
    }
    const service = await liveService(fixture);
    const target = tool === 'knex' || tool === 'sql' ? fixture.names.at(-1)! : fixture.irreversible[0]!;
    const { tool: live, plan } = await planOf(service, target);
    try {
      expect(plan.some((s) => s.irreversible)).toBe(true);
      const check = (await checkPlanSchema(service, live, plan, deps))!;
      expect(check.downs.state).toBe('not_run');
      expect(check.computed).toMatchObject({ error: null, unexpressed: [] });
      expect(check.computed.step).not.toBeNull();
      expect(computedPlanReason(plan, check)).toMatchObject({ kind: 'irreversible' });
      await live.withRollbackLock(() => live.runComputed(check.computed.step!, service.lock_timeout));
      const applied = (await live.listApplied()).map((m) => m.name);
      expect(applied).toEqual(fixture.names.slice(0, fixture.names.indexOf(target)));
      // The schema equals a fresh build of what stays applied.
      const db = await createTestDatabase('mb_plan_target');
      dbs.push(db);
      const build = createMigrationTool(await serviceOn(fixture, db.url), silentLogger);
      try {
        await build.migrateUp!(
          applied.map((name, i) => ({ name, order: Number(versionOf(name) ?? i + 1), appliedAt: null })),
        );
      } finally {
        await build.close();
      }
      const exclude = trackingRelations(live);
      expect(await schemaLines(service.database_url, exclude)).toEqual(await schemaLines(db.url, exclude));
    } finally {
      await live.close();
    }
  });
});

describe('a dirty golang-migrate version left by a failed up', () => {
  it('matches the build before it, and the computed plan only moves the tracking table (force)', async () => {
    const fixture = await checkFixture('sql', false);
    // 004's up fails half way in production: its first statement ran outside a transaction, the second failed.
    await writeFile(
      path.join(fixture.directory, '004_add_audit_log.up.sql'),
      'CREATE INDEX CONCURRENTLY events_name_idx ON events (name);\nSELECT 1/0;\n',
    );
    await writeFile(
      path.join(fixture.directory, '004_add_audit_log.down.sql'),
      'DROP INDEX IF EXISTS events_name_idx;\n',
    );
    const db = await createTestDatabase('mb_plan_dirty');
    dbs.push(db);
    const service = await serviceOn(fixture, db.url);
    const live = createMigrationTool(service, silentLogger);
    try {
      const files = await live.listFiles();
      await expect(
        live.migrateUp!(files.map((name) => ({ name, order: Number(name.slice(0, 3)), appliedAt: null }))),
      ).rejects.toThrow(/division by zero/);
      const applied = await live.listApplied();
      expect(applied.at(-1)).toMatchObject({ name: '004_add_audit_log', dirty: true });
      // The half-applied up left its index: the live schema is neither build.
      const plan = await live.describeDown(migrationsToRevert(applied, applied.at(-1)!));
      const check = (await checkPlanSchema(service, live, plan, deps))!;
      expect(check.live.matches).toBe('neither');
      expect(check.live.fromTarget.remaining).toEqual(['index events_name_idx on public.events']);
      expect(computedPlanReason(plan, check)).toEqual({ kind: 'dirty', migration: '004_add_audit_log' });
      expect(check.computed.step!.sql).toEqual([
        expect.stringMatching(/drop index if exists "public"\."events_name_idx"/i),
      ]);
      await live.withRollbackLock(() => live.runComputed(check.computed.step!, service.lock_timeout));
      expect(await query(db.url, 'SELECT version::text, dirty FROM schema_migrations')).toEqual([
        { version: '3', dirty: false },
      ]);
    } finally {
      await live.close();
    }
  });

  it('a failed up that changed nothing: the live schema matches the build before it, and the computed plan is a force', async () => {
    const fixture = await checkFixture('sql', false);
    await writeFile(
      path.join(fixture.directory, '004_add_audit_log.up.sql'),
      'CREATE TABLE audit_log (id int);\nSELECT 1/0;\n',
    );
    await writeFile(path.join(fixture.directory, '004_add_audit_log.down.sql'), 'DROP TABLE audit_log;\n');
    const db = await createTestDatabase('mb_plan_force');
    dbs.push(db);
    const service = await serviceOn(fixture, db.url);
    const live = createMigrationTool(service, silentLogger);
    try {
      const files = await live.listFiles();
      await expect(
        live.migrateUp!(files.map((name) => ({ name, order: Number(name.slice(0, 3)), appliedAt: null }))),
      ).rejects.toThrow(/division by zero/);
      const applied = await live.listApplied();
      const plan = await live.describeDown(migrationsToRevert(applied, applied.at(-1)!));
      const check = (await checkPlanSchema(service, live, plan, deps))!;
      expect(check.live.matches).toBe('target');
      expect(check.computed).toMatchObject({ error: null, unexpressed: [] });
      expect(check.computed.step!.sql).toEqual([]);
      await live.withRollbackLock(() => live.runComputed(check.computed.step!, service.lock_timeout));
      expect(await query(db.url, 'SELECT version::text, dirty FROM schema_migrations')).toEqual([
        { version: '3', dirty: false },
      ]);
    } finally {
      await live.close();
    }
  });
});
