import { afterEach, beforeEach, vi } from 'vitest';
import type { RDSClient } from '@aws-sdk/client-rds';
import { createRdsClient } from '../../../src/adapters/rds/create-rds-client.js';
import { startRdsServer, type RdsServer, type RdsServerOptions } from '../../support/rds-server.js';

/** Fake static credentials (AWS documentation's example pair). They must never show up in messages. */
export const FAKE_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
export const FAKE_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/**
 * Snapshot and restore completion delays, ms: just under the tests' 1 s waiter delay, so a
 * create is seen `creating` on the waiter's first poll and `available` on the second.
 */
export const SNAPSHOT_DELAY_MS = 900;
export const RESTORE_DELAY_MS = 900;

export interface RdsFixture {
  server: RdsServer;
  client: RDSClient;
}

/**
 * Per test: a fresh loopback RDS server, and a real RDSClient from `createRdsClient()` that
 * finds it ONLY through the SDK's standard chain: `AWS_ENDPOINT_URL_RDS`, `AWS_REGION` and
 * env credentials are stubbed, nothing is passed to the client.
 */
export function useRdsFixture(options: RdsServerOptions = {}): RdsFixture {
  const fx = {} as RdsFixture;
  beforeEach(async () => {
    fx.server = await startRdsServer({
      snapshotDelayMs: SNAPSHOT_DELAY_MS,
      restoreDelayMs: RESTORE_DELAY_MS,
      ...options,
    });
    vi.stubEnv('AWS_ENDPOINT_URL_RDS', fx.server.url);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', FAKE_ACCESS_KEY_ID);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', FAKE_SECRET_ACCESS_KEY);
    fx.client = createRdsClient();
  });
  afterEach(async () => {
    fx.client.destroy();
    await fx.server.close();
    vi.unstubAllEnvs();
  });
  return fx;
}

/** Runs `fn` and returns what it threw (fails the test when it does not throw). */
export async function rejectionOf(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
