import { NoSuchBucket, NoSuchKey } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { mapS3Error, type S3ErrorContext } from '../../../../src/adapters/s3/s3-errors.js';
import { userText } from '../../../support/words.js';

const ctx: S3ErrorContext = { operation: 'Upload', bucket: 'acme-dumps', key: 'p/x.dump', service: 'tickets' };

/** An error shaped like the SDK's REST-XML service errors: `name` = shape, `Code` = wire code. */
const sdkError = (name: string, status: number, message = 'boom AKIAABCDEFGHIJKLMNOP'): Error =>
  Object.assign(new Error(message), { name, Code: name, $metadata: { httpStatusCode: status } });

describe('mapS3Error', () => {
  it('a missing bucket names the bucket and the config key, and is not retried', () => {
    const err = mapS3Error(
      new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: { httpStatusCode: 404 } }),
      ctx,
    );
    expect(err).toMatchObject({ code: 'snapshot_storage_failed', retryable: false });
    expect(userText(err)).toContain('The S3 bucket `acme-dumps` (`services.tickets.snapshot.bucket`) does not exist');
  });

  it('a bucket that refuses writes names the permissions the bot needs', () => {
    const err = mapS3Error(sdkError('AccessDenied', 403), ctx);
    expect(err).toMatchObject({
      code: 'snapshot_storage_failed',
      retryable: false,
      details: { awsCode: 'AccessDenied' },
    });
    expect(userText(err)).toContain('S3 refused Upload on bucket `acme-dumps` (S3: AccessDenied)');
    expect(userText(err)).toContain('s3:PutObject');
  });

  it('throttling, 5xx and network failures are retryable', () => {
    for (const e of [
      sdkError('SlowDown', 503),
      sdkError('InternalError', 500),
      Object.assign(new Error('x'), { code: 'ECONNRESET' }),
    ])
      expect(mapS3Error(e, ctx)).toMatchObject({ code: 'snapshot_storage_unavailable', retryable: true });
  });

  it('a missing object is snapshot_not_found; a missing region says which variable to set', () => {
    expect(mapS3Error(new NoSuchKey({ message: 'gone', $metadata: { httpStatusCode: 404 } }), ctx).code).toBe(
      'snapshot_not_found',
    );
    expect(userText(mapS3Error(new Error('Region is missing'), ctx))).toContain('Set `AWS_REGION`');
  });

  it('never carries the SDK text (which may hold key ids) into the words people read', () => {
    const err = mapS3Error(sdkError('InvalidArgument', 400), ctx);
    expect(userText(err)).not.toContain('AKIA');
    expect(err.message).not.toContain('AKIAABCDEFGHIJKLMNOP');
  });
});
