import { describe, expect, it } from 'vitest';
import { CreateDBSnapshotCommand, DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import {
  RdsSnapshotProvider,
  type RdsSnapshotProviderOptions,
} from '../../../src/adapters/rds/rds-snapshot-provider.js';
import { AppError } from '../../../src/shared/errors.js';
import type { SnapshotRequest } from '../../../src/domain/snapshots/snapshot-provider.js';
import {
  FAKE_ACCESS_KEY_ID,
  FAKE_SECRET_ACCESS_KEY,
  SNAPSHOT_DELAY_MS,
  rejectionOf,
  useRdsFixture,
} from './rds-fixture.js';
import { userText } from '../../support/words.js';

const INSTANCE = 'tickettoken-production';
const LRT = new Date('2026-11-21T03:07:00.000Z');

function request(name = 'pre-rollback-tickets-20261121-031207', incidentId = 'inc-0001'): SnapshotRequest {
  return { incidentId, service: 'tickets', migration: '007_add_security_tables.ts', requestedBy: 'U0SRE001', name };
}

function expectNoSecrets(err: AppError): void {
  for (const text of [err.message, userText(err) ?? '', JSON.stringify(err.details ?? {})]) {
    expect(text).not.toContain(FAKE_SECRET_ACCESS_KEY);
    expect(text).not.toContain(FAKE_ACCESS_KEY_ID);
  }
}

describe('RdsSnapshotProvider against the loopback RDS endpoint (real @aws-sdk/client-rds)', () => {
  const fx = useRdsFixture();

  const provider = (overrides: Partial<RdsSnapshotProviderOptions> = {}): RdsSnapshotProvider =>
    new RdsSnapshotProvider({
      client: fx.client,
      instance: INSTANCE,
      service: 'tickets',
      maxWaitMinutes: 1,
      minDelaySeconds: 1,
      maxDelaySeconds: 1,
      stateRetryDelayMs: 50,
      ...overrides,
    });

  const seed = (): void => {
    fx.server.addInstance(INSTANCE, { latestRestorableTime: LRT });
  };

  it('reaches the server only through AWS_ENDPOINT_URL_RDS and signs requests', async () => {
    seed();
    const out = await fx.client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: INSTANCE }));
    expect(out.DBInstances?.[0]?.DBInstanceStatus).toBe('available');
    expect(out.DBInstances?.[0]?.LatestRestorableTime?.toISOString()).toBe(LRT.toISOString());
    expect(fx.server.requests).toEqual([
      {
        action: 'DescribeDBInstances',
        params: { Action: 'DescribeDBInstances', Version: '2014-10-31', DBInstanceIdentifier: INSTANCE },
      },
    ]);
  });

  it('creates the snapshot with tags, waits until available, and records ID, ARN, status, times', async () => {
    seed();
    const progress: string[] = [];
    const started = Date.now();
    const record = await provider().create(request(), (t) => {
      progress.push(t);
    });

    expect(record).toMatchObject({
      id: 'pre-rollback-tickets-20261121-031207',
      provider: 'rds',
      status: 'available',
      arn: 'arn:aws:rds:us-east-1:123456789012:snapshot:pre-rollback-tickets-20261121-031207',
      latestRestorableTime: LRT.toISOString(),
    });
    expect(Date.parse(record.createdAt)).toBeGreaterThanOrEqual(started - 1000);
    expect(record.elapsedMs).toBeGreaterThanOrEqual(SNAPSHOT_DELAY_MS);

    const create = fx.server.requestsFor('CreateDBSnapshot');
    expect(create).toHaveLength(1);
    expect(create[0]!.params).toMatchObject({
      DBInstanceIdentifier: INSTANCE,
      DBSnapshotIdentifier: 'pre-rollback-tickets-20261121-031207',
      'Tags.Tag.1.Key': 'incident',
      'Tags.Tag.1.Value': 'inc-0001',
      'Tags.Tag.2.Key': 'service',
      'Tags.Tag.2.Value': 'tickets',
      'Tags.Tag.3.Key': 'migration',
      'Tags.Tag.3.Value': '007_add_security_tables.ts',
      'Tags.Tag.4.Key': 'requested-by',
      'Tags.Tag.4.Value': 'U0SRE001',
    });
    expect(fx.server.tagsOf(record.id)).toEqual({
      incident: 'inc-0001',
      service: 'tickets',
      migration: '007_add_security_tables.ts',
      'requested-by': 'U0SRE001',
      'created-by': 'migrate-bot',
    });
    // The waiter polled DescribeDBSnapshots until available; then verified and read LatestRestorableTime.
    expect(fx.server.requestsFor('DescribeDBSnapshots').length).toBeGreaterThanOrEqual(2);
    expect(fx.server.requestsFor('DescribeDBInstances')).toHaveLength(1);

    expect(progress[0]).toBe('Snapshot `pre-rollback-tickets-20261121-031207` creating…');
    expect(progress.at(-1)).toMatch(/^Snapshot `pre-rollback-tickets-20261121-031207` available after \d+s$/);

    const verified = await provider().verify(record);
    expect(verified).toMatchObject({
      id: record.id,
      status: 'available',
      arn: record.arn,
      createdAt: record.createdAt,
    });
  });

  it("snapshot.keep deletes the oldest of its own snapshots only: never one it did not make, nor an open incident's", async () => {
    seed();
    await fx.client.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: INSTANCE,
        DBSnapshotIdentifier: 'dba-manual-before-upgrade',
      }),
    );
    const name = (n: number) => `pre-rollback-tickets-20261121-03120${n}`;
    const progress: string[] = [];
    const keep2 = provider({ keep: 2, protectedIds: async () => new Set([name(1)]) });
    for (let n = 1; n <= 4; n++)
      await keep2.create(request(name(n), `inc-000${n}`), (t) => {
        progress.push(t);
      });
    expect(fx.server.snapshotIds().sort()).toEqual(['dba-manual-before-upgrade', name(1), name(3), name(4)]);
    expect(fx.server.deletedSnapshots).toEqual([name(2)]);
    // Housekeeping is logged, never said in the incident's channel.
    expect(progress.filter((t) => /Retention|deleted older/.test(t))).toEqual([]);
    // Without keep nothing is ever deleted.
    await provider().create(request(name(5), 'inc-0005'));
    expect(fx.server.deletedSnapshots).toEqual([name(2)]);
  });

  it('a retried job reuses its own snapshot: DBSnapshotAlreadyExists is success, the server holds one', async () => {
    seed();
    const first = await provider().create(request());
    const second = await provider().create(request());
    expect(second.id).toBe(first.id);
    expect(second.arn).toBe(first.arn);
    expect(fx.server.snapshotIds()).toEqual([first.id]);
    expect(fx.server.requestsFor('CreateDBSnapshot')).toHaveLength(2);
  });

  it('a retry that starts while the first attempt is still creating waits for the same snapshot', async () => {
    seed();
    const progress: string[] = [];
    const a = provider().create(request());
    await new Promise((r) => setTimeout(r, 200));
    const b = provider().create(request(), (t) => {
      progress.push(t);
    });
    const [ra, rb] = await Promise.all([a, b]);
    expect(rb.id).toBe(ra.id);
    expect(fx.server.snapshotIds()).toHaveLength(1);
    expect(progress[0]).toContain('already requested');
  });

  it('refuses an existing snapshot of the same name made for another incident', async () => {
    seed();
    await provider().create(request(undefined, 'inc-OTHER'));
    const err = await rejectionOf(() => provider().create(request(undefined, 'inc-0001')));
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('snapshot_name_taken');
  });

  it('SnapshotQuotaExceeded is reported with its name and never retried', async () => {
    seed();
    fx.server.snapshotQuota = 0;
    const err = (await rejectionOf(() => provider().create(request()))) as AppError;
    expect(err.code).toBe('snapshot_quota_exceeded');
    expect(err.retryable).toBe(false);
    expect(userText(err)).toContain('SnapshotQuotaExceeded');
    expect(userText(err)).toContain('Manual DB instance snapshots');
    expect((err.cause as { Code?: string }).Code).toBe('SnapshotQuotaExceeded');
    expect(fx.server.requestsFor('CreateDBSnapshot')).toHaveLength(1);
    expectNoSecrets(err);
  });

  it('InvalidDBInstanceState is retried (bounded) and then succeeds', async () => {
    seed();
    fx.server
      .failNext('CreateDBSnapshot', 'InvalidDBInstanceState')
      .failNext('CreateDBSnapshot', 'InvalidDBInstanceState');
    const record = await provider().create(request());
    expect(record.status).toBe('available');
    expect(fx.server.requestsFor('CreateDBSnapshot')).toHaveLength(3);
    expect(fx.server.snapshotIds()).toHaveLength(1);
  });

  it('InvalidDBInstanceState gives up after stateRetryAttempts with a retryable error', async () => {
    seed();
    fx.server.setInstanceStatus(INSTANCE, 'modifying');
    const err = (await rejectionOf(() => provider().create(request()))) as AppError;
    expect(err.code).toBe('snapshot_source_busy');
    expect(err.retryable).toBe(true);
    expect(userText(err)).toContain(INSTANCE);
    expect(fx.server.requestsFor('CreateDBSnapshot')).toHaveLength(3);
  });

  it.each([
    ['Throttling', 400],
    ['ThrottlingException', 400],
    ['TooManyRequests', 429],
    ['ServiceUnavailable', 503],
  ])('%s (HTTP %i) is retried by the SDK and then succeeds', async (code, status) => {
    seed();
    fx.server.failNext('CreateDBSnapshot', code, status);
    const record = await provider().create(request());
    expect(record.status).toBe('available');
    const creates = fx.server.requestsFor('CreateDBSnapshot');
    expect(creates).toHaveLength(2);
    expect(fx.server.snapshotIds()).toHaveLength(1);
  });

  it('persistent throttling ends after the SDK maxAttempts (3) as a retryable rds_throttled', async () => {
    seed();
    for (let i = 0; i < 5; i += 1) fx.server.failNext('CreateDBSnapshot', 'Throttling');
    const err = (await rejectionOf(() => provider().create(request()))) as AppError;
    expect(err.code).toBe('rds_throttled');
    expect(err.retryable).toBe(true);
    expect(fx.server.requestsFor('CreateDBSnapshot')).toHaveLength(3);
  });

  it.each(['failed', 'deleted', 'incompatible-restore'] as const)('status %s fails fast', async (status) => {
    seed();
    fx.server.failSnapshotsWith(status);
    const started = Date.now();
    const err = (await rejectionOf(() => provider({ maxWaitMinutes: 5 }).create(request()))) as AppError;
    expect(err.code).toBe('snapshot_failed');
    expect(err.retryable).toBe(false);
    expect(userText(err)).toContain(`\`${status}\``);
    expect(userText(err)).toContain('rollback stays blocked');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a snapshot that disappears while waiting fails fast instead of polling to the timeout', async () => {
    seed();
    fx.server.neverComplete = true;
    const pending = rejectionOf(() => provider({ maxWaitMinutes: 5 }).create(request()));
    await new Promise((r) => setTimeout(r, 500));
    fx.server.removeSnapshot('pre-rollback-tickets-20261121-031207');
    const started = Date.now();
    const err = (await pending) as AppError;
    expect(err.code).toBe('snapshot_failed');
    expect(userText(err)).toContain('no longer found');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a waiter timeout is snapshot_wait_timeout with what to do next', async () => {
    seed();
    fx.server.neverComplete = true;
    const started = Date.now();
    const err = (await rejectionOf(() => provider({ maxWaitMinutes: 0.05 }).create(request()))) as AppError;
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(err.code).toBe('snapshot_wait_timeout');
    expect(err.retryable).toBe(true);
    expect(userText(err)).toContain('AWS console');
    expect(userText(err)).toContain('/migrate snapshot');
    expect(userText(err)).toContain('services.tickets.snapshot.max_wait_minutes');
    expect((err.cause as Error).name).toBe('TimeoutError');
    expectNoSecrets(err);
  });

  it('DBInstanceNotFound (HTTP 404) names the instance and the services.yaml key', async () => {
    const err = (await rejectionOf(() =>
      provider({ instance: 'tickettoken-prod-typo' }).create(request()),
    )) as AppError;
    expect(err.code).toBe('snapshot_source_not_found');
    expect(err.retryable).toBe(false);
    expect(userText(err)).toContain('`tickettoken-prod-typo`');
    expect(userText(err)).toContain('services.tickets.snapshot.instance');
    expect((err.cause as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(404);
    expect(fx.server.requestsFor('CreateDBSnapshot')).toHaveLength(1);
    expectNoSecrets(err);
  });

  it('an invalid name is rejected before any RDS call', async () => {
    seed();
    const err = (await rejectionOf(() =>
      provider().create(request('pre-rollback-tickets--20261121-031207')),
    )) as AppError;
    expect(err.code).toBe('snapshot_name_invalid');
    expect(fx.server.requests).toHaveLength(0);
  });

  it('verify() fails for a failed or deleted snapshot and reports one still creating', async () => {
    seed();
    const record = await provider().create(request());
    fx.server.setSnapshotStatus(record.id, 'failed');
    const failed = (await rejectionOf(() => provider().verify(record))) as AppError;
    expect(failed.code).toBe('snapshot_verification_failed');

    fx.server.removeSnapshot(record.id);
    const gone = (await rejectionOf(() => provider().verify(record))) as AppError;
    expect(gone.code).toBe('snapshot_not_found');

    fx.server.neverComplete = true;
    const slow = await rejectionOf(() =>
      provider({ maxWaitMinutes: 0.03 }).create(request('pre-rollback-tickets-20261121-040000')),
    );
    expect((slow as AppError).code).toBe('snapshot_wait_timeout');
    const creating = await provider().verify({
      id: 'pre-rollback-tickets-20261121-040000',
      provider: 'rds',
      status: 'creating',
      createdAt: new Date().toISOString(),
    });
    expect(creating.status).toBe('creating');
  });

  it('a permission error while waiting is not polled until the timeout', async () => {
    seed();
    fx.server.neverComplete = true;
    fx.server.failNext(
      'DescribeDBSnapshots',
      'AccessDenied',
      403,
      'User is not authorized to perform: rds:DescribeDBSnapshots',
    );
    const started = Date.now();
    const err = (await rejectionOf(() => provider({ maxWaitMinutes: 5 }).create(request()))) as AppError;
    expect(err.code).toBe('rds_access_denied');
    expect(err.retryable).toBe(false);
    expect(userText(err)).toContain('`rds:DescribeDBSnapshots` must be allowed');
    expect(Date.now() - started).toBeLessThan(10_000);
    expectNoSecrets(err);
  });
});
