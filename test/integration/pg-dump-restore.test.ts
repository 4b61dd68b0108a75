import { LocalDumpStore } from '../../src/adapters/pgdump/local-dump-store.js';
import type { AppError } from '../../src/shared/errors.js';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { PgDumpSnapshotProvider } from '../../src/adapters/pgdump/pg-dump-provider.js';
import { PgDumpRestorer } from '../../src/adapters/pgdump/pg-dump-restorer.js';
import { databaseExists } from '../../src/adapters/pgdump/pg-restore.js';
import { systemClock } from '../../src/shared/clock.js';
import type { SnapshotRecord } from '../../src/domain/snapshots/snapshot-provider.js';
import { ADMIN_URL, type TestDatabase } from '../support/postgres.js';
import { createTicketServiceDb } from '../support/ticket-service.js';
import { saying, userText } from '../support/words.js';

/** Restoring a pg_dump snapshot off the happy path: unknown, foreign and tampered dumps, a failing pg_restore. */
describe('pg_dump restore: checked before opening, never a half-made target', () => {
  let db: TestDatabase;
  let dir: string;
  let provider: PgDumpSnapshotProvider;
  let restorer: PgDumpRestorer;
  let record: SnapshotRecord;
  const request = (name: string, service = 'ticket-service') => ({
    incidentId: 'i-1',
    service,
    migration: '007',
    requestedBy: 'U0REQ001',
    name,
  });
  const hooks = () => {
    const events: string[] = [];
    return {
      events,
      ownsTarget: false,
      targetCreated: async (t: string) => void events.push(`created ${t}`),
      targetRemoved: async (t: string) => void events.push(`removed ${t}`),
    };
  };
  beforeAll(async () => {
    db = await createTicketServiceDb();
    dir = await mkdtemp(path.join(os.tmpdir(), 'mb-restore-'));
    provider = new PgDumpSnapshotProvider({ databaseUrl: db.url, store: new LocalDumpStore(dir), clock: systemClock });
    restorer = new PgDumpRestorer({
      databaseUrl: db.url,
      store: new LocalDumpStore(dir),
      service: 'ticket-service',
      verify: (r) => provider.verify(r),
      clock: systemClock,
    });
    record = await provider.create(request('pre-rollback-ticket-service-20261121-030000'));
    await provider.create(request('pre-rollback-ticket-service-20261121-040000'));
    await provider.create(request('pre-rollback-other-service-20261121-050000', 'other-service'));
  });
  afterAll(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("lists the service's own dumps newest first, with size", async () => {
    const recent = await restorer.recent(10);
    expect(recent.map((r) => r.id)).toEqual([
      'pre-rollback-ticket-service-20261121-040000',
      'pre-rollback-ticket-service-20261121-030000',
    ]);
    expect(recent[0]!.sizeBytes).toBeGreaterThan(1000);
  });

  it("refuses an unknown id, a path, and another service's dump before anything is made", async () => {
    const target = restorer.targetName(new Date());
    for (const id of ['no-such-snapshot', '../etc/passwd', 'pre-rollback-other-service-20261121-050000']) {
      await expect(restorer.check({ snapshotId: id, target }), id).rejects.toMatchObject({
        code: 'restore_snapshot_unknown',
      });
    }
    await expect(
      restorer.check({ snapshotId: 'pre-rollback-other-service-20261121-050000', target }),
    ).rejects.toMatchObject({ userMessage: saying('a dump of other-service') });
    expect(await databaseExists(db.url, target)).toBe(false);
  });

  it('fails a tampered dump with the expected and found sha256, before and at restore time, and creates nothing', async () => {
    const copyDir = await mkdtemp(path.join(os.tmpdir(), 'mb-tamper-'));
    try {
      const p2 = new PgDumpSnapshotProvider({
        databaseUrl: db.url,
        store: new LocalDumpStore(copyDir),
        clock: systemClock,
      });
      const r2 = new PgDumpRestorer({
        databaseUrl: db.url,
        store: new LocalDumpStore(copyDir),
        service: 'ticket-service',
        verify: (r) => p2.verify(r),
        clock: systemClock,
      });
      const snap = await p2.create(request('pre-rollback-ticket-service-20261121-060000'));
      const bytes = await readFile(snap.location!);
      bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff; // same size, different content
      await writeFile(snap.location!, bytes);
      const target = r2.targetName(new Date());
      const err = await r2.check({ snapshotId: snap.id, target }).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'snapshot_verification_failed',
        details: { expected: { sha256: snap.sha256 } },
      });
      expect(userText(err as AppError)).toContain(`expected \`${snap.sha256}\``);
      const h = hooks();
      await expect(
        r2.restore({ incidentId: 'i', requestedBy: 'U', snapshotId: snap.id, target }, h),
      ).rejects.toMatchObject({ code: 'snapshot_verification_failed' });
      expect(h.events).toEqual([]);
      expect(await databaseExists(db.url, target)).toBe(false);
    } finally {
      await rm(copyDir, { recursive: true, force: true });
    }
  });

  it('drops the database it created when pg_restore fails, and says so', async () => {
    // A role the dump needs does not exist on purpose: a table whose restore fails half-way.
    const badDir = await mkdtemp(path.join(os.tmpdir(), 'mb-restore-bad-'));
    onTestFinished(() => rm(badDir, { recursive: true, force: true }));
    const badStore = new LocalDumpStore(badDir);
    await badStore.writeManifest({ id: record.id, service: 'ticket-service', createdAt: record.createdAt });
    await writeFile(path.join(badDir, `${record.id}.dump`), 'PGDMP garbage');
    const failing = new PgDumpRestorer({
      databaseUrl: db.url,
      store: badStore,
      service: 'ticket-service',
      verify: async (r) => r, // passes the garbage on, so pg_restore itself fails
      clock: systemClock,
    });
    const target = failing.targetName(new Date(Date.now() + 1000));
    const h = hooks();
    const err = await failing
      .restore({ incidentId: 'i', requestedBy: 'U', snapshotId: record.id, target }, h)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'restore_failed', details: { target, dropped: true } });
    expect(userText(err as AppError)).toContain(`The half-restored database \`${target}\` was dropped`);
    expect(h.events).toEqual([`created ${target}`, `removed ${target}`]);
    expect(await databaseExists(db.url, target)).toBe(false);
  });

  it('a retried job that created the target before it stopped starts again from an empty target', async () => {
    const target = restorer.targetName(new Date(Date.now() + 2000));
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${pg.escapeIdentifier(target)}`);
      const h = { ...hooks(), ownsTarget: true };
      const out = await restorer.restore({ incidentId: 'i', requestedBy: 'U', snapshotId: record.id, target }, h);
      expect(h.events).toEqual([`removed ${target}`, `created ${target}`]);
      const rows = await new pg.Client({ connectionString: out.endpoint });
      await rows.connect();
      expect((await rows.query('SELECT count(*)::int AS n FROM knex_migrations')).rows[0].n).toBe(7);
      await rows.end();
    } finally {
      await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(target)} WITH (FORCE)`);
      await c.end();
    }
  });
});
