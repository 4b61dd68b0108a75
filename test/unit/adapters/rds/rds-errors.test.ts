import { describe, expect, it } from 'vitest';
import { SnapshotQuotaExceededFault } from '@aws-sdk/client-rds';
import { mapRdsError, type RdsErrorContext } from '../../../../src/adapters/rds/rds-errors.js';
import { AppError } from '../../../../src/shared/errors.js';
import { userText } from '../../../support/words.js';

const ctx: RdsErrorContext = {
  operation: 'CreateDBSnapshot',
  area: 'snapshot',
  source: { kind: 'instance', id: 'tickettoken-production' },
  service: 'tickets',
  snapshotId: 'pre-rollback-tickets-20261121-031207',
  maxWaitMinutes: 30,
};

/** An error shaped like the SDK's Query-protocol service errors: `name` = shape, `Code` = wire code. */
const sdkError = (name: string, code: string, status: number, message = 'boom'): Error =>
  Object.assign(new Error(message), {
    name,
    Code: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

describe('mapRdsError', () => {
  it('maps the SDK class itself', () => {
    const err = new SnapshotQuotaExceededFault({
      message: 'Cannot create more than 100 manual snapshots',
      $metadata: { httpStatusCode: 400 },
    });
    const mapped = mapRdsError(err, ctx);
    expect(mapped.code).toBe('snapshot_quota_exceeded');
    expect(mapped.retryable).toBe(false);
    expect(mapped.cause).toBe(err);
  });

  it.each([
    ['SnapshotQuotaExceededFault', 'SnapshotQuotaExceeded', 400, 'snapshot_quota_exceeded', false],
    ['InvalidDBInstanceStateFault', 'InvalidDBInstanceState', 400, 'snapshot_source_busy', true],
    ['InvalidDBClusterStateFault', 'InvalidDBClusterStateFault', 400, 'snapshot_source_busy', true],
    ['Throttling', 'Throttling', 400, 'rds_throttled', true],
    ['ThrottlingException', 'ThrottlingException', 400, 'rds_throttled', true],
    ['RDSServiceException', 'SomethingElse', 429, 'rds_throttled', true],
    ['ServiceUnavailable', 'ServiceUnavailable', 503, 'rds_unavailable', true],
    ['DBInstanceNotFoundFault', 'DBInstanceNotFound', 404, 'snapshot_source_not_found', false],
    ['DBSnapshotNotFoundFault', 'DBSnapshotNotFound', 404, 'snapshot_not_found', false],
    ['AccessDenied', 'AccessDenied', 403, 'rds_access_denied', false],
    ['InvalidParameterValue', 'InvalidParameterValue', 400, 'rds_request_failed', false],
  ])('%s / %s (HTTP %i) → %s, retryable %s', (name, code, status, expected, retryable) => {
    const mapped = mapRdsError(sdkError(name, code, status), ctx);
    expect(mapped.code).toBe(expected);
    expect(mapped.retryable).toBe(retryable);
    expect(userText(mapped)).toBeTruthy();
  });

  it('names the instance and the services.yaml key for a missing source', () => {
    const mapped = mapRdsError(sdkError('DBInstanceNotFoundFault', 'DBInstanceNotFound', 404), ctx);
    expect(userText(mapped)).toContain('`tickettoken-production`');
    expect(userText(mapped)).toContain('services.tickets.snapshot.instance');
  });

  it('recognises the waiter timeout (not a socket TimeoutError)', () => {
    const waiter = Object.assign(new Error('{"state":"TIMEOUT","reason":"Waiter has timed out"}'), {
      name: 'TimeoutError',
    });
    expect(mapRdsError(waiter, ctx).code).toBe('snapshot_wait_timeout');
    expect(userText(mapRdsError(waiter, ctx))).toContain('services.tickets.snapshot.max_wait_minutes');
    expect(mapRdsError(waiter, { ...ctx, area: 'restore', target: 'x-recovery' }).code).toBe('restore_wait_timeout');
    const socket = Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
    expect(mapRdsError(socket, ctx).code).toBe('rds_unavailable');
  });

  it('keeps access key IDs out of messages', () => {
    const mapped = mapRdsError(
      sdkError('InvalidClientTokenId', 'InvalidClientTokenId', 403, 'key AKIAIOSFODNN7EXAMPLE is invalid'),
      ctx,
    );
    expect(mapped.code).toBe('rds_access_denied');
    expect(mapped.message).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(userText(mapped)).not.toContain('AKIA');
  });

  it('passes AppErrors through unchanged', () => {
    const own = new AppError({ code: 'snapshot_name_invalid', message: 'x' });
    expect(mapRdsError(own, ctx)).toBe(own);
  });
});
