/**
 * The drill can only touch what it made: it drops and recreates its databases only when they
 * carry its marker comment, refuses a database it did not create (naming it, leaving its tables
 * and rows as they were), and refuses any PostgreSQL but this machine's unless told otherwise.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DRILL_MARKER, recreateDrillDatabase } from '../../src/adapters/postgres/ensure-database.js';
import { type DrillOptions, startDrill } from '../../src/main/start-drill.js';
import { AppError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { query } from '../support/e2e-helpers.js';
import { createTestDatabase, dropDatabase, type TestDatabase } from '../support/postgres.js';

async function drillOptions(serviceDatabaseUrl: string): Promise<DrillOptions> {
  const tag = randomBytes(4).toString('hex');
  return {
    port: 0,
    httpPort: 0,
    stateDatabaseUrl: `postgres://postgres@127.0.0.1:5432/mb_drill_state_${tag}`,
    serviceDatabaseUrl,
    redisUrl: 'redis://127.0.0.1:6379',
    queuePrefix: `mbtest-drillsafe-${tag}`,
    snapshotDir: path.join(await mkdtemp(path.join(os.tmpdir(), 'mb-drill-')), 'backups'),
    logLevel: 'silent',
  };
}

const commentOf = async (url: string, name: string) =>
  (
    await query<{ c: string | null }>(
      url.replace(/\/[^/]+$/, '/postgres'),
      "SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = $1",
      [name],
    )
  )[0]?.c;

describe('the drill touches only what it made', () => {
  const cleanup: string[] = [];
  let customers: TestDatabase | undefined;
  afterEach(async () => {
    for (const url of cleanup.splice(0)) await dropDatabase(url);
    await customers?.drop();
    customers = undefined;
  });

  it('refuses a DRILL_DATABASE_URL naming a database it did not create, and leaves its tables and rows', async () => {
    customers = await createTestDatabase('mb_customers');
    await query(customers.url, 'CREATE TABLE customers (id int PRIMARY KEY, name text)');
    await query(customers.url, "INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 25) g");
    const options = await drillOptions(customers.url);
    cleanup.push(options.stateDatabaseUrl);

    const err = await startDrill(options, silentLogger).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('drill_database_not_ours');
    expect((err as AppError).message).toContain(`will not drop database ${customers.name}`);
    expect((err as AppError).message).toContain('Nothing was dropped');
    expect(await query(customers.url, 'SELECT count(*)::int AS n FROM customers')).toEqual([{ n: 25 }]);
  });

  it('creates its databases with the marker, and recreates them at the next start', async () => {
    const name = `mb_drill_own_${randomBytes(4).toString('hex')}`;
    const url = `postgres://postgres@127.0.0.1:5432/${name}`;
    cleanup.push(url);
    await recreateDrillDatabase(url, 'a test drill database');
    expect(await commentOf(url, name)).toBe(DRILL_MARKER);
    await query(url, 'CREATE TABLE leftover (x int)');
    await recreateDrillDatabase(url, 'a test drill database');
    expect(await query(url, "SELECT to_regclass('leftover')::text AS t")).toEqual([{ t: null }]);
  });

  it('refuses a server other than this machine unless --drill-host-ok, before connecting', async () => {
    const remote = 'postgres://postgres@db.example.internal:5432/migrate_bot_drill_tickets';
    await expect(recreateDrillDatabase(remote, 'the demo database')).rejects.toMatchObject({
      code: 'drill_host_refused',
      message: expect.stringContaining('--drill-host-ok'),
    });
    // Allowed, it does try that server (which does not exist here): the refusal above was the host rule.
    await expect(
      recreateDrillDatabase('postgres://postgres@127.0.0.2:1/x', 'the demo database', { allowRemoteHost: true }),
    ).rejects.toMatchObject({ code: 'postgres_unreachable' });
  });
});
