/**
 * Writing archives back on the real PostgreSQL, through the archive catalog: a down dropped two
 * columns of `users` and their values were archived the way a rollback archives them. While the
 * column is missing the plan is refused naming it; once a fix-forward re-adds the columns, a
 * conflicting value and a deleted row are counted, `skip` keeps the value there now, `overwrite`
 * replaces it, a clean column comes back with equal checksums (a value with Slack markup in it,
 * byte for byte), and a lock held by another session stops the write at lock_timeout with
 * nothing written.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresArchiveCatalog as catalog } from '../../src/adapters/postgres/archive-catalog.js';
import { DurationSchema } from '../../src/config/duration.js';
import type { ServiceConfig } from '../../src/config/services.js';
import { shortId } from '../../src/domain/incident/model/incident.js';
import { archivePlan, archiveTargets } from '../../src/domain/rollback/archive.js';
import type { PlanStep } from '../../src/domain/rollback/plan.js';
import { classifyPlan } from '../../src/domain/rollback/risk.js';
import {
  unarchivePlanStep,
  unarchiveProblems,
  unarchiveRefusal,
  type OnConflict,
} from '../../src/domain/rollback/unarchive.js';
import type { AppError } from '../../src/shared/errors.js';
import { wordsPlain } from '../../src/shared/words.js';
import { query } from '../support/e2e-helpers.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const INCIDENT = '0c5e2b7a-41d9-4f6e-8a3c-9d2b7e1f4a60';
const SCHEMA = 'migrate_bot_archive';
const DOWN = 'ALTER TABLE users DROP COLUMN display_name, DROP COLUMN avatar_url';
const limits = { lockTimeout: DurationSchema.parse('200ms'), stepTimeout: DurationSchema.parse('30s') };
const dbs: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
});

/** A database whose down dropped two columns of `users`, archived first exactly as a rollback does. */
async function archivedColumns(): Promise<{ service: ServiceConfig; tables: string[] }> {
  const db = await createTestDatabase('mb_unarchive');
  dbs.push(db);
  await query(
    db.url,
    `CREATE TABLE users (id serial PRIMARY KEY, email text, display_name text, avatar_url text);
     INSERT INTO users (email, display_name, avatar_url) VALUES
       ('a@x', 'Ada', NULL), ('b@x', NULL, NULL), ('c@x', 'Cy <!channel>', 'https://x/c.png'), ('d@x', 'Di', 'https://x/d.png')`,
  );
  const service = { name: 'events', database_url: db.url } as ServiceConfig;
  const plan: PlanStep[] = [{ migration: '003_add_profile.sql', order: 3, transactional: true, sql: [DOWN] }];
  const targets = archiveTargets(plan, await classifyPlan(plan));
  const { resolved } = await catalog.resolve(service, targets, SCHEMA);
  const archive = archivePlan(
    INCIDENT,
    shortId(INCIDENT),
    plan,
    targets,
    resolved,
    { schema: SCHEMA, max_bytes: 1e9 },
    null,
  );
  await query(db.url, ['BEGIN', ...archive.copies.flatMap((c) => c.sql), DOWN, 'COMMIT'].join(';\n'));
  return { service, tables: archive.copies.map((c) => c.table) };
}

async function planFor(service: ServiceConfig, table: string, mode: OnConflict) {
  const [x] = await catalog.inspectUnarchive(service, SCHEMA, [table]);
  return {
    ...x!,
    refusal: unarchiveRefusal(x!.source, x!.target, mode),
    step: unarchivePlanStep(x!.source, x!.target, mode, 1),
  };
}

const sum = async (url: string, sql: string) =>
  (await query<{ s: string }>(url, `SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) AS s FROM (${sql}) r`))[0]!.s;

describe('unarchive of dropped columns', () => {
  it('refuses while the column is missing, counts conflicts and lost rows, and skips or overwrites as asked', async () => {
    const { service, tables } = await archivedColumns();
    const name = tables.find((t) => t.endsWith('display_name'))!;
    const missing = await planFor(service, name, 'refuse');
    expect(missing.source).toMatchObject({
      kind: 'column',
      target: { schema: 'public', table: 'users', column: 'display_name' },
      columns: ['id', 'display_name'],
      rows: 3,
      incidentId: INCIDENT,
    });
    expect(missing.refusal).toBe(
      `public.users has no column display_name: add it back (a fix-forward, or the up migration again) before unarchiving ${SCHEMA}.${name}`,
    );

    // The fix-forward re-adds the column; one user got a new name since, another was deleted.
    await query(
      service.database_url,
      "ALTER TABLE users ADD COLUMN display_name text; UPDATE users SET display_name = 'Ada L.' WHERE id = 1; DELETE FROM users WHERE id = 4",
    );
    const refused = await planFor(service, name, 'refuse');
    expect(refused.target).toMatchObject({ key: ['id'], conflicts: 1, unmatched: 1, missingColumns: [] });
    expect(refused.refusal).toContain(
      '1 archived values of column public.users.display_name already exist with other values',
    );

    const skip = await planFor(service, name, 'skip');
    expect(skip.refusal).toBeNull();
    expect(skip.step.sql).toEqual([
      `UPDATE "public"."users" AS t SET "display_name" = a."display_name" FROM "${SCHEMA}"."${name}" AS a WHERE t."id" = a."id" AND t."display_name" IS NULL`,
    ]);
    expect(await catalog.writeBack(service, [skip.step], limits)).toEqual([1]);
    const names = () => query(service.database_url, 'SELECT id, display_name FROM users ORDER BY id');
    expect(await names()).toEqual([
      { id: 1, display_name: 'Ada L.' },
      { id: 2, display_name: null },
      { id: 3, display_name: 'Cy <!channel>' },
    ]);
    const [afterSkip] = await catalog.compareWriteBack(service, [skip.step.unarchive!]);
    expect(afterSkip).toMatchObject({ rows: 3, equal: 1, differing: 1, missing: 1 });
    expect(unarchiveProblems(skip.step.unarchive!, afterSkip!)).toEqual([
      `${SCHEMA}.${name}: 1 of 3 archived values have no row in public.users now`,
    ]);

    const overwrite = await planFor(service, name, 'overwrite');
    expect(await catalog.writeBack(service, [overwrite.step], limits)).toEqual([2]);
    expect((await names())[0]).toEqual({ id: 1, display_name: 'Ada' });
    const [afterOverwrite] = await catalog.compareWriteBack(service, [overwrite.step.unarchive!]);
    expect(afterOverwrite).toMatchObject({ equal: 2, differing: 0, missing: 1 });
  });

  it('brings a clean column back with equal checksums, and stops at lock_timeout with nothing written', async () => {
    const { service, tables } = await archivedColumns();
    const name = tables.find((t) => t.endsWith('avatar_url'))!;
    const archived = await sum(service.database_url, `SELECT id, avatar_url FROM ${SCHEMA}."${name}"`);
    await query(service.database_url, 'ALTER TABLE users ADD COLUMN avatar_url text');
    const { step, refusal } = await planFor(service, name, 'refuse');
    expect(refusal).toBeNull();

    // Another session holds the table: the write waits lock_timeout, then nothing is written.
    const holder = new pg.Client({ connectionString: service.database_url });
    await holder.connect();
    try {
      await holder.query('BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
      const err = await catalog.writeBack(service, [step], limits).catch((e: AppError) => e);
      expect(err).toMatchObject({ code: 'rollback_lock_timeout' });
      expect(wordsPlain((err as AppError).userMessage!)).toBe(
        'The archived data was not written back: `lock_timeout 200ms` ran out waiting for a lock (another session holds one on the tables); `/migrate triage` shows who. The transaction was rolled back, so nothing changed.',
      );
      await holder.query('ROLLBACK');
    } finally {
      await holder.end();
    }
    expect(await query(service.database_url, 'SELECT count(avatar_url)::int AS n FROM users')).toEqual([{ n: 0 }]);

    expect(await catalog.writeBack(service, [step], limits)).toEqual([2]);
    expect(await sum(service.database_url, 'SELECT id, avatar_url FROM users WHERE avatar_url IS NOT NULL')).toBe(
      archived,
    );
    const [c] = await catalog.compareWriteBack(service, [step.unarchive!]);
    expect(c).toMatchObject({ rows: 2, equal: 2, differing: 0, missing: 0 });
    expect(c!.checksums.table).toBe(c!.checksums.archive);
    expect(unarchiveProblems(step.unarchive!, c!)).toEqual([]);
  });

  it('refuses an archive table the bot did not make', async () => {
    const { service } = await archivedColumns();
    await query(service.database_url, `CREATE TABLE ${SCHEMA}.handmade (id int)`);
    await expect(catalog.inspectUnarchive(service, SCHEMA, ['handmade'])).rejects.toMatchObject({
      code: 'unarchive_refused',
    });
  });
});
