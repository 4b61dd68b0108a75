import { vi } from 'vitest';
import { startRdsServer, type RdsServer, type RdsServerOptions } from './rds-server.js';
export {
  channelTexts,
  eventually,
  incidentRow,
  planCard,
  posted,
  query,
  reachesState,
  textOf,
  updated,
  type IncidentRow,
} from './bot-waits.js';

/**
 * A loopback RDS endpoint holding the production instance `tickettoken-production`, reached by
 * the bot only through the SDK's standard chain (`AWS_ENDPOINT_URL_RDS`, `AWS_REGION`, env
 * credentials — AWS's documented example pair). Undo with `vi.unstubAllEnvs()`.
 */
export async function startRdsForBot(options: RdsServerOptions & { fail?: 'failed' } = {}): Promise<RdsServer> {
  const server = await startRdsServer(options);
  server.addInstance('tickettoken-production');
  if (options.fail) server.failSnapshotsWith(options.fail);
  vi.stubEnv('AWS_ENDPOINT_URL_RDS', server.url);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAIOSFODNN7EXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  return server;
}

/** services.yaml overrides for a service snapshotted with `provider: rds`. */
export const RDS_SERVICE = { snapshot: { provider: 'rds', instance: 'tickettoken-production', max_wait_minutes: 1 } };
