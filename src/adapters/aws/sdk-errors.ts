/**
 * Reading an error thrown by any AWS SDK v3 client (RDS, S3): its names, whether it is
 * throttling, transient or an authorization failure. Each client's own mapper
 * (`rds/rds-errors.ts`, `s3/s3-errors.ts`) turns these into AppErrors with its own words.
 *
 * The SDK names a service error after its modelled shape (`SnapshotQuotaExceededFault`,
 * `NoSuchBucket`) and keeps the wire code in `Code`; a Node network failure carries `code`
 * (`ECONNREFUSED`). The SDK's standard retry strategy has already retried throttling and 5xx
 * before an error reaches a mapper.
 */

/** The fields of an SDK or network error this module reads. */
export interface SdkErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $retryable?: { throttling?: boolean };
}

/** `err` as an {@link SdkErrorShape} (empty for non-objects). */
export const sdkErrorShape = (err: unknown): SdkErrorShape =>
  typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {};

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ThrottledException',
  'SlowDown',
]);
const AUTH = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'ExpiredToken',
  'ExpiredTokenException',
  'MissingAuthenticationToken',
  'NotAuthorized',
  'CredentialsProviderError',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Names an SDK error may go by: the wire code (`Code`), the SDK class name (`name`) and a Node
 * network code (`code`). Empty for non-objects.
 */
export function awsErrorNames(err: unknown): string[] {
  const e = sdkErrorShape(err);
  return [e.Code, e.name, e.code].filter((n): n is string => typeof n === 'string' && n.length > 0);
}

const inSet = (err: unknown, set: ReadonlySet<string>): boolean => awsErrorNames(err).some((n) => set.has(n));

/** Throttling by name, HTTP 429 or the SDK's own throttling mark. */
export function isAwsThrottling(err: unknown): boolean {
  const e = sdkErrorShape(err);
  return inSet(err, THROTTLING) || e.$metadata?.httpStatusCode === 429 || e.$retryable?.throttling === true;
}

/** HTTP 5xx, a network failure or a request timeout: worth trying again later. */
export function isAwsTransient(err: unknown): boolean {
  const status = sdkErrorShape(err).$metadata?.httpStatusCode ?? 0;
  return (
    status >= 500 ||
    inSet(err, NETWORK) ||
    awsErrorNames(err).some((n) => n === 'TimeoutError' || n === 'RequestTimeout')
  );
}

/** Credentials missing, expired or refused, or HTTP 403. */
export function isAwsAuthError(err: unknown): boolean {
  return inSet(err, AUTH) || sdkErrorShape(err).$metadata?.httpStatusCode === 403;
}
