import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * Builds the S3 client from the AWS SDK's standard configuration chain, as the RDS client is
 * built: region from `AWS_REGION` or the profile; credentials from env keys, SSO, web identity
 * (IRSA / EKS Pod Identity), shared files or instance metadata; endpoint from
 * `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL` (the SDK's `AWS_ENDPOINT_URL_` + service id
 * rule; the tests reach a local S3 only through it); retries from `AWS_MAX_ATTEMPTS` /
 * `AWS_RETRY_MODE`.
 *
 * @param overrides settings that win over the chain, e.g. `forcePathStyle` for an S3-compatible
 *   store (MinIO, Ceph) that has no virtual-hosted buckets (`snapshot.force_path_style`).
 * @returns a client the caller owns (`destroy()` on shutdown)
 */
export function createS3Client(overrides: S3ClientConfig = {}): S3Client {
  return new S3Client(overrides);
}
