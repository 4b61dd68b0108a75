import { LocalDumpStore } from '../../src/adapters/pgdump/local-dump-store.js';
import type { AppError } from '../../src/shared/errors.js';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDumpSnapshotProvider } from '../../src/adapters/pgdump/pg-dump-provider.js';
import { PgDumpRestorer } from '../../src/adapters/pgdump/pg-dump-restorer.js';
import { recoveryDatabaseName } from '../../src/adapters/pgdump/pg-restore.js';
import { systemClock } from '../../src/shared/clock.js';
import { ADMIN_URL, type TestDatabase } from '../support/postgres.js';
import { createTicketServiceDb } from '../support/ticket-service.js';
import { saying, userText } from '../support/words.js';

async function q<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

const SCHEMA_SQL = `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
  WHERE table_schema = 'public' ORDER BY table_name, column_name`;
const COUNTS_SQL = `SELECT 'tickets' AS t, count(*)::int AS n FROM tickets UNION ALL SELECT 'knex_migrations', count(*)::int FROM knex_migrations
  UNION ALL SELECT 'ticket_scans', count(*)::int FROM ticket_scans ORDER BY 1`;

describe('pg_dump snapshots against real PostgreSQL', () => {
  let db: TestDatabase;
  let dir: string;
  const restored: string[] = [];
  beforeAll(async () => {
    db = await createTicketServiceDb();
    await q(
      db.url,
      `INSERT INTO tickets (tenant_id, event_name) SELECT gen_random_uuid(), 'show ' || g FROM generate_series(1, 250) g`,
    );
    await q(db.url, `INSERT INTO ticket_scans (ticket_id, tenant_id) SELECT id, tenant_id FROM tickets LIMIT 40`);
    dir = await mkdtemp(path.join(os.tmpdir(), 'mb-dumps-'));
  });
  afterAll(async () => {
    for (const name of restored)
      await q(ADMIN_URL, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const request = (name: string) => ({
    incidentId: 'i-1',
    service: 'ticket-service',
    migration: '007_add_security_tables.ts',
    requestedBy: 'U0REQ001',
    name,
  });

  it('dumps, verifies (sha256 + pg_restore --list), and restores into a new database with identical schema and row counts', async () => {
    const provider = new PgDumpSnapshotProvider({
      databaseUrl: db.url,
      store: new LocalDumpStore(dir),
      clock: systemClock,
    });
    const progress: string[] = [];
    const record = await provider.create(
      request('pre-rollback-ticket-service-20261121-030000'),
      (t) => void progress.push(t),
    );
    expect(record).toMatchObject({
      provider: 'pg_dump',
      status: 'available',
      id: 'pre-rollback-ticket-service-20261121-030000',
    });
    expect(record.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record.sizeBytes).toBeGreaterThan(1000);
    // "available" is the incident's notice (with size and time); the provider adds no line of its own.
    expect(progress.some((t) => /available after/.test(t))).toBe(false);
    await expect(provider.verify(record)).resolves.toMatchObject({ status: 'available' });

    // A retried job finds its own dump: same record, no second dump.
    const again = await provider.create(request(record.id));
    expect(again.sha256).toBe(record.sha256);
    expect((await readdir(dir)).filter((f) => f.endsWith('.dump'))).toHaveLength(1);

    const restorer = new PgDumpRestorer({
      databaseUrl: db.url,
      store: new LocalDumpStore(dir),
      service: 'ticket-service',
      verify: (r) => provider.verify(r),
      clock: systemClock,
    });
    const target = restorer.targetName(new Date('2026-11-21T03:05:09Z'));
    expect(target).toMatch(/_recovery_20261121_030509$/);
    await restorer.check({ snapshotId: record.id, target });
    restored.push(target);
    const created: string[] = [];
    const { endpoint } = await restorer.restore(
      { incidentId: 'i-1', requestedBy: 'U0REQ001', snapshotId: record.id, target },
      { ownsTarget: false, targetCreated: async (t) => void created.push(t) },
    );
    expect(created).toEqual([target]);
    expect(await q(endpoint, SCHEMA_SQL)).toEqual(await q(db.url, SCHEMA_SQL));
    expect(await q(endpoint, COUNTS_SQL)).toEqual(await q(db.url, COUNTS_SQL));
    // Never over an existing database (not created by this incident), never the source.
    await expect(restorer.check({ snapshotId: record.id, target })).rejects.toMatchObject({
      code: 'restore_target_exists',
    });
    await expect(
      restorer.restore(
        { incidentId: 'i-2', requestedBy: 'U0REQ001', snapshotId: record.id, target },
        { ownsTarget: false, targetCreated: async () => undefined },
      ),
    ).rejects.toMatchObject({ code: 'restore_target_exists' });
    await expect(restorer.check({ snapshotId: record.id, target: db.name })).rejects.toMatchObject({
      code: 'restore_target_invalid',
    });
    // Two restores in the same minute get different targets; names fit 63 bytes.
    expect(restorer.targetName(new Date('2026-11-21T03:05:10Z'))).not.toBe(target);
    expect(Buffer.byteLength(recoveryDatabaseName('x'.repeat(80), new Date()))).toBeLessThanOrEqual(63);
    // A service database named with capitals or dashes still gets a target the bot may create and drop.
    expect(recoveryDatabaseName('Tickets-Prod', new Date('2026-11-21T03:05:10Z'))).toBe(
      'tickets_prod_recovery_20261121_030510',
    );
  });

  it('detects a dump that changed after it was taken', async () => {
    const provider = new PgDumpSnapshotProvider({
      databaseUrl: db.url,
      store: new LocalDumpStore(dir),
      clock: systemClock,
    });
    const record = await provider.create(request('pre-rollback-ticket-service-20261121-031000'));
    await writeFile(record.location!, 'tampered');
    await expect(provider.verify(record)).rejects.toMatchObject({ code: 'snapshot_verification_failed' });
  });

  it('hashes while streaming; the rollback gate trusts an unchanged file and re-reads a changed one', async () => {
    const provider = new PgDumpSnapshotProvider({
      databaseUrl: db.url,
      store: new LocalDumpStore(dir),
      clock: systemClock,
    });
    const record = await provider.create(request('pre-rollback-ticket-service-20261121-032000'));
    const { createHash } = await import('node:crypto');
    const { readFile } = await import('node:fs/promises');
    expect(record.sha256).toBe(
      createHash('sha256')
        .update(await readFile(record.location!))
        .digest('hex'),
    );
    expect(record.file).toMatchObject({ mtimeMs: expect.any(Number), ino: expect.any(Number) });
    // A record whose hash is wrong but whose file is untouched: if_changed trusts the stat, always reads.
    const wrong = { ...record, sha256: '0'.repeat(64) };
    await expect(provider.verify(wrong, { rehash: 'if_changed' })).resolves.toMatchObject({ status: 'available' });
    await expect(provider.verify(wrong)).rejects.toMatchObject({ code: 'snapshot_verification_failed' });
    await writeFile(record.location!, 'tampered');
    await expect(provider.verify(record, { rehash: 'if_changed' })).rejects.toMatchObject({
      code: 'snapshot_verification_failed',
    });
  });

  it('does not wait behind an ACCESS EXCLUSIVE lock: fails after --lock-wait-timeout naming the table and its holder', async () => {
    const provider = new PgDumpSnapshotProvider({
      databaseUrl: db.url,
      store: new LocalDumpStore(dir),
      clock: systemClock,
      lockWaitTimeout: '500ms',
    });
    const holder = new pg.Client({ connectionString: db.url, application_name: 'schema-change' });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE ticket_scans IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const err = await provider
        .create(request('pre-rollback-ticket-service-20261121-033000'))
        .catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(err).toMatchObject({
        code: 'snapshot_lock_wait_timeout',
        userMessage: saying('could not lock `public.ticket_scans` within 500ms'),
      });
      expect(userText(err as AppError)).toMatch(/held by pid \d+ \(schema-change, idle in transaction\)/);
      expect((await readdir(dir)).filter((f) => f.includes('033000'))).toEqual([]);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });

  it('keeps the newest `keep` dumps and never removes a protected one', async () => {
    const keepDir = await mkdtemp(path.join(os.tmpdir(), 'mb-keep-'));
    try {
      const protectedId = 'pre-rollback-ticket-service-20261121-040000';
      const provider = new PgDumpSnapshotProvider({
        databaseUrl: db.url,
        store: new LocalDumpStore(keepDir),
        clock: systemClock,
        keep: 2,
        protectedIds: async () => new Set([protectedId]),
      });
      for (const ts of ['040000', '040100', '040200', '040300'])
        await provider.create(request(`pre-rollback-ticket-service-20261121-${ts}`));
      const left = (await readdir(keepDir)).filter((f) => f.endsWith('.dump')).sort();
      // Two kept: the oldest is an open incident's (protected), so the next-oldest two go instead.
      expect(left).toEqual([`${protectedId}.dump`, 'pre-rollback-ticket-service-20261121-040300.dump']);
    } finally {
      await rm(keepDir, { recursive: true, force: true });
    }
  });

  it('a full server makes a retryable failure, so the prepare job tries again; nothing is written', async () => {
    const role = `mb_dump_one_${Date.now().toString(36)}`;
    await q(ADMIN_URL, `CREATE ROLE ${role} LOGIN CONNECTION LIMIT 1`);
    const url = new URL(db.url);
    url.username = role;
    const holder = new pg.Client({ connectionString: url.toString() });
    await holder.connect();
    try {
      const provider = new PgDumpSnapshotProvider({
        databaseUrl: url.toString(),
        store: new LocalDumpStore(dir),
        clock: systemClock,
      });
      const err = await provider
        .create(request('pre-rollback-ticket-service-20261121-045000'))
        .catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'snapshot_pg_dump_failed',
        retryable: true,
        userMessage: saying('too many connections'),
      });
      expect((await readdir(dir)).filter((f) => f.includes('045000'))).toEqual([]);
    } finally {
      await holder.end();
      await q(ADMIN_URL, `DROP ROLE ${role}`);
    }
  });

  it('fails with a clear, secret-free error when the database is unreachable', async () => {
    const provider = new PgDumpSnapshotProvider({
      databaseUrl: 'postgres://app:pw-secret@127.0.0.1:1/none',
      store: new LocalDumpStore(dir),
      clock: systemClock,
    });
    const err = await provider.create(request('pre-rollback-ticket-service-20261121-050000')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'snapshot_pg_dump_failed' });
    expect(JSON.stringify({ m: (err as Error).message, u: userText(err as AppError) })).not.toContain('pw-secret');
    expect((await readdir(dir)).some((f) => f.endsWith('.partial'))).toBe(false);
  });

  it('refuses a server newer than its pg_dump before writing anything, saying which client to install', async () => {
    // A pg_dump that reports major version 12 (older than this machine's server): the version check reads `pg_dump --version`.
    const bin = path.join(dir, 'pg_dump-12');
    await writeFile(bin, '#!/bin/sh\necho "pg_dump (PostgreSQL) 12.22"\n', { mode: 0o755 });
    const provider = new PgDumpSnapshotProvider({
      databaseUrl: db.url,
      store: new LocalDumpStore(path.join(dir, 'old-client')),
      clock: systemClock,
      pgDumpPath: bin,
    });
    const err = await provider.create(request('pre-rollback-ticket-service-20261121-060000')).catch((e: unknown) => e);
    const [row] = await q<{ v: string }>(db.url, "SELECT current_setting('server_version_num') AS v");
    const server = Math.floor(Number(row!.v) / 10_000);
    expect(err).toMatchObject({ code: 'snapshot_pg_dump_too_old' });
    expect(userText(err as AppError)).toContain(`pg_dump is version 12 and ticket-service runs PostgreSQL ${server}`);
    expect(userText(err as AppError)).toContain(`Install postgresql-client-${server}`);
    expect(await readdir(dir)).not.toContain('old-client');
  });
});
