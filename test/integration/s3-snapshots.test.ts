import { writeFile, chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createS3Client } from '../../src/adapters/s3/create-s3-client.js';
import { S3DumpStore } from '../../src/adapters/s3/s3-dump-store.js';
import { PgDumpSnapshotProvider } from '../../src/adapters/pgdump/pg-dump-provider.js';
import {
  createRestorer,
  createSnapshotProvider,
  type SnapshotContext,
} from '../../src/adapters/snapshots/snapshot-provider-registry.js';
import type { ServiceConfig } from '../../src/config/services.js';
import { DurationSchema } from '../../src/config/duration.js';
import { systemClock } from '../../src/shared/clock.js';
import type { AppError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { startMotoS3, MOTO_ENV, type MotoS3 } from '../support/moto-s3.js';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { ticketServiceConfig } from '../support/ticket-service.js';
import { userText } from '../support/words.js';
import { query } from '../support/e2e-helpers.js';

/** One query on its own connection. */
const q = <T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> => query<T>(url, sql);

const MIB = 1024 * 1024;

/**
 * pg_dump snapshots in S3 (moto's S3 on loopback, reached only through `AWS_ENDPOINT_URL_S3`):
 * streamed with a multipart upload, checked against S3's own SHA-256, tagged, pruned by `keep`,
 * restored by a process that has never seen the dump; a missing bucket refuses before pg_dump runs.
 */
describe('pg_dump snapshots in S3', () => {
  let moto: MotoS3;
  let db: TestDatabase;
  /** A few rows: for what does not need a multipart upload (retries, retention, refusals). */
  let small: TestDatabase;
  let snapshotDir: string;
  const restored: string[] = [];
  const s3 = () => createS3Client();
  const ctx = (): SnapshotContext => ({
    directory: snapshotDir,
    rds: () => {
      throw new Error('no RDS here');
    },
    s3,
    protectedIds: async () => new Set(),
    clock: systemClock,
    logger: silentLogger,
  });
  const service = (snapshot: Record<string, unknown>, url = small.url): ServiceConfig => ({
    ...ticketServiceConfig(url),
    snapshot: {
      provider: 'pg_dump',
      lock_wait_timeout: DurationSchema.parse('1min'),
      storage: 's3',
      force_path_style: false,
      ...snapshot,
    } as ServiceConfig['snapshot'],
  });
  const request = (name: string) => ({
    incidentId: '0f6a1c2e-1111-4c3d-9e8f-000000000001',
    service: 'ticket-service',
    migration: '007_add_security_tables.ts',
    requestedBy: 'U0REQ001',
    name,
  });
  const keys = async (bucket: string): Promise<string[]> =>
    ((await moto.client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();

  beforeAll(async () => {
    moto = await startMotoS3();
    [db, small] = await Promise.all([createTestDatabase('mb_s3'), createTestDatabase('mb_s3_small')]);
    // ~7 MiB of dump (random hex compresses about 2:1): two 5 MiB parts.
    await q(
      db.url,
      `CREATE TABLE events (id bigint PRIMARY KEY, payload text NOT NULL);
       INSERT INTO events SELECT g, md5(random()::text) || md5(random()::text) FROM generate_series(1, 230000) g`,
    );
    await q(
      small.url,
      `CREATE TABLE events (id bigint PRIMARY KEY, payload text NOT NULL);
       INSERT INTO events SELECT g, md5(g::text) FROM generate_series(1, 100) g`,
    );
    snapshotDir = await mkdtemp(path.join(os.tmpdir(), 'mb-s3-nodir-'));
  }, 60_000);
  // The SDK's standard chain is the only way the bot finds moto (vitest unstubs after each test).
  beforeEach(() => {
    for (const [k, v] of Object.entries({ ...MOTO_ENV, AWS_ENDPOINT_URL_S3: moto.url })) vi.stubEnv(k, v);
  });
  afterAll(async () => {
    for (const name of restored)
      await q(ADMIN_URL, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await Promise.all([db?.drop(), small?.drop()]);
    await moto?.close();
    await rm(snapshotDir, { recursive: true, force: true });
  });

  it('streams the dump in parts, matches S3 SHA-256 and tags it; another process restores it with no local file', async () => {
    const bucket = await moto.bucket('mb-dumps-restore');
    const store = new S3DumpStore({
      client: s3(),
      bucket,
      prefix: 'migrate-bot/ticket-service/',
      service: 'ticket-service',
      partSize: 5 * MIB,
    });
    const provider = new PgDumpSnapshotProvider({ databaseUrl: db.url, store, clock: systemClock });
    const progress: string[] = [];
    const record = await provider.create(request('pre-rollback-ticket-service-20261205-030000'), (t) => {
      progress.push(t);
    });

    expect(record.location).toBe(
      `s3://${bucket}/migrate-bot/ticket-service/pre-rollback-ticket-service-20261205-030000.dump`,
    );
    expect(record.sizeBytes).toBeGreaterThan(5 * MIB);
    // A multipart upload in 5 MiB parts, and S3's SHA-256 of the parts matched ours (else create throws).
    const parts = Math.ceil(record.sizeBytes! / (5 * MIB));
    expect(parts).toBeGreaterThanOrEqual(2);
    expect(record.etag).toBe(`${record.etag!.slice(0, -1).split('-')[0]}-${parts}"`);
    expect(await keys(bucket)).toEqual([
      'migrate-bot/ticket-service/pre-rollback-ticket-service-20261205-030000.dump',
      'migrate-bot/ticket-service/pre-rollback-ticket-service-20261205-030000.json',
    ]);
    const head = await moto.client.send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: 'migrate-bot/ticket-service/pre-rollback-ticket-service-20261205-030000.dump',
        ChecksumMode: 'ENABLED',
      }),
    );
    expect(head.ContentLength).toBe(record.sizeBytes);
    expect(head.ChecksumSHA256).toBeTruthy();
    const tags = await moto.client.send(
      new GetObjectTaggingCommand({
        Bucket: bucket,
        Key: 'migrate-bot/ticket-service/pre-rollback-ticket-service-20261205-030000.dump',
      }),
    );
    expect(Object.fromEntries((tags.TagSet ?? []).map((t) => [t.Key, t.Value]))).toEqual({
      'created-by': 'migrate-bot',
      incident: '0f6a1c2e-1111-4c3d-9e8f-000000000001',
      service: 'ticket-service',
      migration: '007_add_security_tables.ts',
      'requested-by': 'U0REQ001',
    });
    expect(progress.filter((t) => /Retention|available after/.test(t))).toEqual([]); // the incident says it, with size and time
    expect(await readdir(snapshotDir)).toEqual([]); // nothing on local disk

    // The gate trusts an unchanged object (HeadObject only); a restore reads it whole.
    expect((await provider.verify(record, { rehash: 'if_changed' })).status).toBe('available');
    expect((await provider.verify(record)).sha256).toBe(record.sha256);

    // "Another node": the registry's restorer, a fresh client, no SNAPSHOT_DIR content.
    const svc = service({ bucket, prefix: 'migrate-bot/ticket-service' }, db.url);
    const restorer = createRestorer(svc, ctx());
    expect((await restorer.recent(5)).map((s) => s.id)).toEqual(['pre-rollback-ticket-service-20261205-030000']);
    const target = restorer.targetName(new Date());
    restored.push(target);
    await restorer.check({ snapshotId: record.id, target });
    const out = await restorer.restore(
      { incidentId: 'i', requestedBy: 'U', snapshotId: record.id, target },
      { ownsTarget: false, targetCreated: async () => undefined },
    );
    const [a] = await q<{ n: number; h: string }>(
      db.url,
      `SELECT count(*)::int AS n, md5(string_agg(payload, '' ORDER BY id)) AS h FROM events`,
    );
    const [b] = await q<{ n: number; h: string }>(
      restorer.connectionUrl(out, db.url),
      `SELECT count(*)::int AS n, md5(string_agg(payload, '' ORDER BY id)) AS h FROM events`,
    );
    expect(b).toEqual(a);
  });

  it('a retried job finds its finished dump and uploads nothing again; a rewritten object fails verification', async () => {
    const bucket = await moto.bucket('mb-dumps-retry');
    const provider = createSnapshotProvider(service({ bucket }), ctx());
    const first = await provider.create(request('pre-rollback-ticket-service-20261205-031000'));
    const again = await provider.create(request('pre-rollback-ticket-service-20261205-031000'));
    expect(again.etag).toBe(first.etag);
    expect(again.sha256).toBe(first.sha256);

    // Someone overwrites the object: the gate's HeadObject sees a new ETag and reads it whole.
    await moto.client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'migrate-bot/ticket-service/pre-rollback-ticket-service-20261205-031000.dump',
        Body: 'PGDMP not the dump',
      }),
    );
    const err = await provider.verify(first, { rehash: 'if_changed' }).catch((e: unknown) => e as AppError);
    expect(err).toMatchObject({ code: 'snapshot_verification_failed' });
    expect(userText(err as AppError)).toMatch(/Do not use it|could not be read back/);
  });

  it('prunes by keep, oldest first, never a protected dump, in S3 only', async () => {
    const bucket = await moto.bucket('mb-dumps-keep');
    const protectedId = 'pre-rollback-ticket-service-20261205-040000';
    const provider = createSnapshotProvider(service({ bucket, keep: 2, prefix: 'keep/' }), {
      ...ctx(),
      protectedIds: async () => new Set([protectedId]),
    });
    for (const stamp of ['040000', '041000', '042000', '043000'])
      await provider.create(request(`pre-rollback-ticket-service-20261205-${stamp}`));
    expect(await keys(bucket)).toEqual(
      ['040000', '043000'].flatMap((s) => [
        `keep/pre-rollback-ticket-service-20261205-${s}.dump`,
        `keep/pre-rollback-ticket-service-20261205-${s}.json`,
      ]),
    );
  });

  it('a bucket that does not exist refuses before pg_dump runs, naming the bucket and S3 error', async () => {
    const provider = createSnapshotProvider(service({ bucket: 'mb-no-such-bucket' }), ctx());
    const err = await provider
      .create(request('pre-rollback-ticket-service-20261205-050000'))
      .catch((e: unknown) => e as AppError);
    expect(err).toMatchObject({ code: 'snapshot_storage_failed', retryable: false });
    expect(userText(err as AppError)).toContain(
      'The S3 bucket `mb-no-such-bucket` (`services.ticket-service.snapshot.bucket`) does not exist (S3: NoSuchBucket)',
    );
  });

  it('a pg_dump that fails mid-stream leaves no object and no open multipart upload', async () => {
    const bucket = await moto.bucket('mb-dumps-broken');
    // A pg_dump that writes 7 MiB (one part and more) and then fails, as a dump cut off by a dropped connection.
    const fake = path.join(snapshotDir, 'pg_dump-broken');
    await writeFile(
      fake,
      `#!/bin/sh\ncase "$1" in --version) echo "pg_dump (PostgreSQL) 99.0"; exit 0;; esac\nhead -c ${7 * MIB} /dev/urandom\necho "pg_dump: error: connection to server lost" >&2\nexit 1\n`,
    );
    await chmod(fake, 0o755);
    onTestFinished(() => rm(fake, { force: true }));
    const store = new S3DumpStore({ client: s3(), bucket, prefix: 'x/', service: 'ticket-service', partSize: 5 * MIB });
    const provider = new PgDumpSnapshotProvider({
      databaseUrl: small.url,
      store,
      clock: systemClock,
      pgDumpPath: fake,
    });
    const err = await provider
      .create(request('pre-rollback-ticket-service-20261205-060000'))
      .catch((e: unknown) => e as AppError);
    expect(err).toMatchObject({ code: 'snapshot_pg_dump_failed' });
    expect(userText(err as AppError)).toContain('connection to server lost');
    expect(await keys(bucket)).toEqual([]);
    const uploads = await moto.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });
});
