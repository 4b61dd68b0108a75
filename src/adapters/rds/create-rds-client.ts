import { RDSClient, type RDSClientConfig } from '@aws-sdk/client-rds';

/**
 * Builds the RDS client from the AWS SDK's standard configuration chain only
 * (AWS configuration only through the SDK's standard chain; nothing
 * AWS-specific lives in migrate-bot's own env schema):
 *
 * - region: `AWS_REGION`, then the shared config file profile (`AWS_PROFILE`);
 * - credentials: env keys, SSO, web identity (IRSA / EKS Pod Identity), shared files,
 *   process, ECS/EC2 metadata (`@aws-sdk/credential-provider-node`);
 * - endpoint: `AWS_ENDPOINT_URL_RDS`, then `AWS_ENDPOINT_URL`, then `endpoint_url` in the
 *   profile; ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`. Verified in the installed
 *   `@smithy/core` (`getEndpointUrlConfig`: `AWS_ENDPOINT_URL_` + the service id `RDS`), and by
 *   the integration tests, which reach the loopback RDS server only through that variable;
 * - retries: `AWS_MAX_ATTEMPTS` (default 3) and `AWS_RETRY_MODE` (default `standard`),
 *   which retry throttling and HTTP 5xx with exponential backoff and jitter.
 *
 * @param overrides explicit client settings (tests, or a caller that must pin something);
 *   they win over the chain exactly as the SDK documents.
 * @returns a client; the caller owns it and should `destroy()` it on shutdown.
 */
export function createRdsClient(overrides: RDSClientConfig = {}): RDSClient {
  return new RDSClient(overrides);
}
