import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import { code, type WordsLike, words } from '../../shared/words.js';
import { awsErrorNames, isAwsAuthError, isAwsThrottling, isAwsTransient, sdkErrorShape } from '../aws/sdk-errors.js';

/** What the S3 mapper needs to say which bucket and which step failed. */
export interface S3ErrorContext {
  /** S3 action, e.g. `HeadBucket`, `Upload`, `GetObject`. */
  operation: string;
  bucket: string;
  /** Object key, when one was involved. */
  key?: string;
  /** Service key under `services:`, to name the config key. */
  service: string;
}

const NO_BUCKET = new Set(['NoSuchBucket']);
const NO_OBJECT = new Set(['NoSuchKey', 'NotFound']);

/**
 * The one mapper from `@aws-sdk/client-s3` / `@aws-sdk/lib-storage` errors to {@link AppError}
 * (S3 API Reference "Error responses"). A missing bucket, refused credentials and any other
 * refusal are `snapshot_storage_failed`, naming the bucket and S3's error code, and are not
 * retried; throttling (`SlowDown`, 503), 5xx and network failures are retryable (the SDK has
 * already retried them `AWS_MAX_ATTEMPTS` times). A missing object is `snapshot_not_found`.
 * The SDK's text goes to logs only, redacted.
 */
export function mapS3Error(err: unknown, ctx: S3ErrorContext): AppError {
  if (err instanceof AppError) return err;
  const e = sdkErrorShape(err);
  const names = awsErrorNames(err);
  const status = e.$metadata?.httpStatusCode;
  const wire = e.Code ?? e.name ?? 'Error';
  const where = `s3://${ctx.bucket}/${ctx.key ?? ''}`;
  const message = `${ctx.operation} ${where} failed: ${wire}${status ? ` (HTTP ${status})` : ''}: ${redactSecrets(String(e.message ?? err))}`;
  const details = { operation: ctx.operation, bucket: ctx.bucket, key: ctx.key, awsCode: wire, httpStatus: status };
  const make = (c: string, retryable: boolean, userMessage: WordsLike): AppError =>
    new AppError({ code: c, message, cause: err, retryable, userMessage, details });
  const key = code(`services.${ctx.service}.snapshot.bucket`);

  if (names.some((n) => NO_BUCKET.has(n)) || (ctx.operation === 'HeadBucket' && status === 404)) {
    return make(
      'snapshot_storage_failed',
      false,
      words`The S3 bucket ${code(ctx.bucket)} (${key}) does not exist (S3: NoSuchBucket), so no snapshot was stored and nothing ran. Create the bucket or correct ${key}, then ${code('/migrate retry')}.`,
    );
  }
  if (ctx.key && (names.some((n) => NO_OBJECT.has(n)) || status === 404)) {
    return make(
      'snapshot_not_found',
      false,
      words`Snapshot object ${code(where)} is missing from S3: it was deleted or the bucket's lifecycle rules expired it.`,
    );
  }
  if (/Region is missing/i.test(String(e.message))) {
    return make(
      'snapshot_storage_failed',
      false,
      words`migrate-bot has no AWS region configured, so it cannot reach S3 bucket ${code(ctx.bucket)}. Set ${code('AWS_REGION')} (or a profile with ${code('region')}) in the bot's environment. Nothing was changed.`,
    );
  }
  if (isAwsAuthError(err)) {
    return make(
      'snapshot_storage_failed',
      false,
      words`S3 refused ${ctx.operation} on bucket ${code(ctx.bucket)} (S3: ${wire}), so no snapshot was stored and nothing ran. The bot's AWS role needs s3:PutObject, s3:GetObject, s3:DeleteObject, s3:ListBucket and s3:PutObjectTagging on it (and kms:GenerateDataKey with ${code('kms_key_id')}).`,
    );
  }
  if (isAwsThrottling(err) || isAwsTransient(err)) {
    return make(
      'snapshot_storage_unavailable',
      true,
      words`S3 did not answer ${ctx.operation} on bucket ${code(ctx.bucket)} (${wire}${status ? `, HTTP ${status}` : ''}) after several tries. Nothing was changed; the bot tries again.`,
    );
  }
  return make(
    'snapshot_storage_failed',
    false,
    words`S3 rejected ${ctx.operation} on bucket ${code(ctx.bucket)} (S3: ${wire}), so no snapshot was stored and nothing ran. The details are in the bot logs.`,
  );
}
