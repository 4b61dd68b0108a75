import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, vi } from 'vitest';
import { APPROVERS } from '../support/bot-harness.js';
import { it } from '../support/bot-test.js';
import { planCard, posted, query, textOf } from '../support/e2e-helpers.js';
import { MOTO_ENV, startMotoS3, type MotoS3 } from '../support/moto-s3.js';
import { ADMIN_URL } from '../support/postgres.js';

/**
 * The bot with `snapshot: { provider: pg_dump, storage: s3 }` against moto's S3: the rollback's
 * dump goes to the bucket and nowhere else, a restore reads it back from S3 alone, and a bucket
 * that does not exist fails the incident before any down migration.
 */
describe('pg_dump snapshots in S3, through the bot', () => {
  let moto: MotoS3;
  const dropLater: string[] = [];
  beforeAll(async () => {
    moto = await startMotoS3();
  });
  beforeEach(() => {
    for (const [k, v] of Object.entries({ ...MOTO_ENV, AWS_ENDPOINT_URL_S3: moto.url })) vi.stubEnv(k, v);
  });
  afterAll(async () => {
    for (const db of dropLater)
      await query(ADMIN_URL, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db)} WITH (FORCE)`);
    await moto?.close();
  });

  it('rolls back with the snapshot in S3 only, then restores it from S3', async ({ bot }) => {
    const bucket = await moto.bucket('mb-e2e-rollback');
    const h = await bot({ snapshot: { provider: 'pg_dump', storage: 's3', bucket, keep: 5 } });

    await h.command('rollback 007');
    const { incidentId } = await planCard(h);
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await posted(h, 'Rollback complete.', 30_000);

    const [row] = await query<{ snapshot: { id: string; location: string; etag: string; sha256: string } }>(
      h.stateDb.url,
      'SELECT snapshot FROM incidents WHERE id = $1',
      [incidentId],
    );
    const snap = row!.snapshot;
    expect(snap.location).toBe(`s3://${bucket}/migrate-bot/ticket-service/${snap.id}.dump`);
    expect(snap.etag).toBeTruthy();
    const listed = await moto.client.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([
      `migrate-bot/ticket-service/${snap.id}.dump`,
      `migrate-bot/ticket-service/${snap.id}.json`,
    ]);
    // Nothing on the bot's disk: a restore on any node can only read the dump from S3.
    expect(existsSync(h.snapshotDir) ? await readdir(h.snapshotDir) : []).toEqual([]);

    const restore = await h.command(`restore ${snap.id}`);
    const reply = await h.slack.waitForResponse((r) => r.key === restore.key);
    expect(String(reply.body.text)).toMatch(/_recovery_\d{8}_\d{6}/);
    const card = await planCard(h, incidentId);
    await h.press('incident_approve', card.incidentId, APPROVERS[0]);
    await h.press('incident_approve', card.incidentId, APPROVERS[1]);
    await posted(h, 'Restore complete', 30_000);
    const [r] = await query<{ restore: { target: string } }>(
      h.stateDb.url,
      'SELECT restore FROM incidents WHERE id = $1',
      [card.incidentId],
    );
    dropLater.push(r!.restore.target);
    const url = new URL(h.ticketDb.url);
    url.pathname = `/${r!.restore.target}`;
    const names = (await query<{ name: string }>(url.toString(), 'SELECT name FROM knex_migrations ORDER BY id')).map(
      (x) => x.name,
    );
    expect(names).toContain('007_add_security_tables.ts'); // the state before the rollback
  });

  it('a bucket that does not exist fails the incident before any down, naming the bucket and S3 error', async ({
    bot,
  }) => {
    const h = await bot({ snapshot: { provider: 'pg_dump', storage: 's3', bucket: 'mb-e2e-missing-bucket' } });
    const before = await query<{ name: string }>(h.ticketDb.url, 'SELECT name FROM knex_migrations ORDER BY id');

    await h.command('rollback 007');
    const failed = await posted(h, 'mb-e2e-missing-bucket', 30_000);
    expect(textOf(failed)).toContain('does not exist (S3: NoSuchBucket)');
    const [row] = await query<{ state: string }>(
      h.stateDb.url,
      'SELECT state FROM incidents ORDER BY created_at DESC LIMIT 1',
    );
    expect(row!.state).toBe('failed');
    expect(await query(h.ticketDb.url, 'SELECT name FROM knex_migrations ORDER BY id')).toEqual(before);
  });
});
