/**
 * Archive before destroy on the real PostgreSQL, through each tool's own `runDown`: the events
 * service (001 `events` and `users`, 002 `event_reminders`, 003 two `users` columns) rolled back to
 * 002 with data in what the downs drop. A dropped column's archive holds exactly its non-null values
 * with their keys, a dropped table's every row; a non-transactional down (sql's and
 * node-pg-migrate's 003) archives just before its statements. The catalog says when a copy is not
 * possible (no primary key, no CREATE privilege) and the plan refuses an archive above max_bytes.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMigrationTool } from '../../src/adapters/migrations/migration-tool-registry.js';
import { postgresArchiveCatalog } from '../../src/adapters/postgres/archive-catalog.js';
import { schemaLines } from '../../src/adapters/postgres/schema-lines.js';
import { loadServices, type ServiceConfig } from '../../src/config/services.js';
import { shortId } from '../../src/domain/incident/model/incident.js';
import { archivePlan, archiveTargets, withArchive } from '../../src/domain/rollback/archive.js';
import { migrationsToRevert, versionOf, type PlanStep } from '../../src/domain/rollback/plan.js';
import { classifyPlan } from '../../src/domain/rollback/risk.js';
import { silentLogger } from '../../src/shared/logger.js';
import { checkFixture, writeServicesFile, type CheckFixture } from '../support/check-fixtures.js';
import { query } from '../support/e2e-helpers.js';
import { withAdmin } from '../support/pg-admin.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const INCIDENT = '6b1f0c2e-8d4a-4c7e-9f3b-2a5d7e9c1f00';
const dbs: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
});

/** The events service as knex migrations (the drill's are about tickets). */
async function knexEvents(): Promise<CheckFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mb-archive-knex-'));
  const file = (up: string, down: string) =>
    `export async function up(knex) { await knex.raw(${JSON.stringify(up)}); }\nexport async function down(knex) { await knex.raw(${JSON.stringify(down)}); }\n`;
  await writeFile(
    path.join(dir, '001_create_events.js'),
    file(
      'CREATE TABLE events (id serial PRIMARY KEY, name text NOT NULL); CREATE TABLE users (id serial PRIMARY KEY, email text)',
      'DROP TABLE users; DROP TABLE events',
    ),
  );
  await writeFile(
    path.join(dir, '002_add_event_reminders.js'),
    file(
      'CREATE TABLE event_reminders (id serial PRIMARY KEY, event_id integer NOT NULL REFERENCES events (id), remind_at timestamptz)',
      'DROP TABLE event_reminders',
    ),
  );
  await writeFile(
    path.join(dir, '003_add_users_profile_columns.js'),
    file(
      'ALTER TABLE users ADD COLUMN display_name text, ADD COLUMN avatar_url text',
      'ALTER TABLE users DROP COLUMN display_name, DROP COLUMN avatar_url',
    ),
  );
  const names = ['001_create_events.js', '002_add_event_reminders.js', '003_add_users_profile_columns.js'];
  return {
    tool: 'knex',
    directory: dir,
    migrations: { tool: 'knex', directory: dir, table: 'knex_migrations' },
    names,
    typo: null,
    irreversible: [],
  };
}

async function liveService(fixture: CheckFixture): Promise<ServiceConfig> {
  const db = await createTestDatabase('mb_archive');
  dbs.push(db);
  const file = await writeServicesFile(fixture, 'events', 'ARCHIVE_TEST_URL');
  const service = (await loadServices(file, { ARCHIVE_TEST_URL: db.url })).services.get('events')!;
  const tool = createMigrationTool(service, silentLogger);
  try {
    const files = await tool.listFiles();
    await tool.migrateUp!(files.map((name, i) => ({ name, order: Number(versionOf(name) ?? i + 1), appliedAt: null })));
  } finally {
    await tool.close();
  }
  await query(
    db.url,
    `INSERT INTO events (name) VALUES ('launch'), ('retro');
     INSERT INTO users (email, display_name, avatar_url) VALUES
       ('a@x', 'Ada', NULL), ('b@x', NULL, NULL), ('c@x', 'Cy <!channel>', 'https://x/c.png'), ('d@x', 'Di', 'https://x/d.png');
     INSERT INTO event_reminders (event_id, remind_at) SELECT 1, now() + g * interval '1 day' FROM generate_series(1, 3) g`,
  );
  return service;
}

/** The plan of `rollback 002` with its archive, as the prepare job makes it. */
async function archivedPlan(service: ServiceConfig, target: string, maxBytes = 1024 ** 3) {
  const tool = createMigrationTool(service, silentLogger);
  const applied = await tool.listApplied();
  const plan = await tool.describeDown(migrationsToRevert(applied, applied.find((m) => m.name === target)!));
  const risk = await classifyPlan(plan);
  const targets = archiveTargets(plan, risk);
  const { resolved, privilegeProblem } = await postgresArchiveCatalog.resolve(service, targets, 'migrate_bot_archive');
  const archive = archivePlan(
    INCIDENT,
    shortId(INCIDENT),
    plan,
    targets,
    resolved,
    { schema: 'migrate_bot_archive', max_bytes: maxBytes },
    privilegeProblem,
  );
  return { tool, plan: withArchive(plan, archive), archive };
}

const TOOLS = [
  { label: 'knex', fixture: knexEvents },
  { label: 'node-pg-migrate (003 without a transaction)', fixture: () => checkFixture('node-pg-migrate', false) },
  { label: 'sql (003 without a transaction)', fixture: () => checkFixture('sql', false) },
  { label: 'drizzle', fixture: () => checkFixture('drizzle', false) },
];

describe.each(TOOLS)('archive before destroy with $label', ({ fixture }) => {
  it('keeps every value of the dropped columns with their keys and every row of the dropped table', async () => {
    const f = await fixture();
    const service = await liveService(f);
    const { tool, plan, archive } = await archivedPlan(service, f.names[1]!);
    try {
      const short = shortId(INCIDENT);
      expect(archive.refused).toEqual([]);
      expect(archive.copies.map((c) => c.table).sort()).toEqual(
        [`${short}_1_users_avatar_url`, `${short}_1_users_display_name`, `${short}_2_event_reminders`].sort(),
      );
      expect(archive.copies.find((c) => c.table.endsWith('event_reminders'))!.estimatedRows).toBe(3);
      const before = await query<{ id: number; display_name: string }>(
        service.database_url,
        'SELECT id, display_name FROM users WHERE display_name IS NOT NULL ORDER BY id',
      );
      const reminders = await query(service.database_url, 'SELECT * FROM event_reminders ORDER BY id');

      await tool.withRollbackLock(async () => {
        for (const step of plan as PlanStep[]) await tool.runDown(step, service.lock_timeout);
      });

      expect(await query(service.database_url, "SELECT to_regclass('public.event_reminders')::text AS t")).toEqual([
        { t: null },
      ]);
      const a = (t: string) => `migrate_bot_archive."${short}_${t}"`;
      expect(
        await query(service.database_url, `SELECT id, display_name FROM ${a('1_users_display_name')} ORDER BY id`),
      ).toEqual(before);
      expect(
        await query(service.database_url, `SELECT id, avatar_url FROM ${a('1_users_avatar_url')} ORDER BY id`),
      ).toEqual([
        { id: 3, avatar_url: 'https://x/c.png' },
        { id: 4, avatar_url: 'https://x/d.png' },
      ]);
      expect(await query(service.database_url, `SELECT * FROM ${a('2_event_reminders')} ORDER BY id`)).toEqual(
        reminders,
      );
      const [comment] = await query<{ c: string }>(
        service.database_url,
        `SELECT obj_description('${a('1_users_display_name')}'::regclass) AS c`,
      );
      expect(comment!.c).toMatch(
        new RegExp(
          `^migrate-bot archive of column public.users.display_name: incident ${INCIDENT}, migration \\S*add[_-]users[_-]profile[_-]columns\\S*, before: .*DROP .*; copied at \\d{4}-`,
        ),
      );
      // The archive schema is the bot's own: the schema fingerprint does not see it.
      expect((await schemaLines(service.database_url, [])).some((l) => l.includes('migrate_bot_archive'))).toBe(false);
      const stats = await postgresArchiveCatalog.stats(
        service,
        plan.flatMap((s) => s.archive ?? []),
      );
      expect(stats.map((s) => [s.object, s.rows])).toEqual(
        expect.arrayContaining([
          ['column public.users.display_name', 3],
          ['table public.event_reminders', 3],
        ]),
      );
    } finally {
      await tool.close();
    }
  });
});

describe('when the archive is not possible', () => {
  it('refuses above max_bytes, for a column of a table without a primary key, and without CREATE, naming the GRANT', async () => {
    const f = await checkFixture('sql', false);
    const service = await liveService(f);
    const tooBig = await archivedPlan(service, f.names[1]!, 1);
    expect(tooBig.archive.copies).toEqual([]);
    expect(tooBig.archive.refused[0]!.why).toMatch(
      /^the archive would take ~\d+(\.\d)? (kB|bytes), above archive.max_bytes \(1 bytes\)$/,
    );
    await tooBig.tool.close();

    await query(service.database_url, 'ALTER TABLE users DROP CONSTRAINT users_pkey');
    const noKey = await archivedPlan(service, f.names[1]!);
    expect(noKey.archive.refused).toEqual(
      expect.arrayContaining([
        {
          object: 'column public.users.display_name',
          why: 'public.users has no primary key, so its values could not be matched to rows again',
        },
      ]),
    );
    expect(noKey.archive.copies.map((c) => c.object)).toEqual(['table public.event_reminders']);
    await noKey.tool.close();

    const role = `mb_archive_nocreate_${process.pid}`;
    const db = new URL(service.database_url).pathname.slice(1);
    await withAdmin((c) => c.query(`DROP ROLE IF EXISTS ${role}; CREATE ROLE ${role} LOGIN`));
    await query(
      service.database_url,
      `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}; REVOKE CREATE ON DATABASE ${db} FROM PUBLIC`,
    );
    try {
      const limited = { ...service, database_url: service.database_url.replace('postgres@', `${role}@`) };
      const { privilegeProblem } = await postgresArchiveCatalog.resolve(
        limited,
        archiveTargets([], { steps: [] }).concat([
          { step: 1, migration: 'm', statement: 0, kind: 'table', table: { schema: null, name: 'event_reminders' } },
        ]),
        'migrate_bot_archive',
      );
      expect(privilegeProblem).toBe(
        `the role ${role} may not create the schema migrate_bot_archive: GRANT CREATE ON DATABASE ${db} TO ${role}, or CREATE SCHEMA migrate_bot_archive AUTHORIZATION ${role}`,
      );
    } finally {
      await query(service.database_url, `DROP OWNED BY ${role}`);
      await withAdmin((c) => c.query(`DROP ROLE IF EXISTS ${role}`));
    }
  });
});
