import pg from 'pg';
import { expect, vi } from 'vitest';
import { startRdsServer, type RdsServer, type RdsServerOptions } from './rds-server.js';
import type { Harness } from './bot-harness.js';
import type { RecordedCall } from './slack-api-server.js';

/** Runs one query on its own connection and returns the rows. */
export async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** A recorded Slack call's arguments as one searchable string. */
export const textOf = (call: RecordedCall): string => JSON.stringify(call.args);

/** Waits until the bot posts a message containing `needle` (text or blocks). */
export const posted = (h: Harness, needle: string | RegExp, timeoutMs = 20_000): Promise<RecordedCall> =>
  h.slack.waitForCall('chat.postMessage', (c) => (typeof needle === 'string' ? textOf(c).includes(needle) : needle.test(textOf(c))), timeoutMs);

/** Waits for the plan card and returns the incident id its Approve button carries, and its channel. */
export async function planCard(h: Harness): Promise<{ incidentId: string; channel: string }> {
  const call = await posted(h, '"action_id":"incident_approve"');
  const blocks = call.args.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>;
  const incidentId = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'incident_approve')?.value;
  expect(incidentId, 'plan card carries the incident id').toBeTruthy();
  return { incidentId: incidentId!, channel: call.args.channel as string };
}

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

/** Polls `check` every 100 ms until it returns a truthy value, which it returns; rejects with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`still waiting after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The incident row as the tests read it. */
export interface IncidentRow {
  state: string;
  failure: { code: string; message: string } | null;
  steps: Array<{ migration: string; status: string }>;
  attempt: number;
}

/** Reads one incident straight from the state database. */
export async function incidentRow(h: Harness, incidentId: string): Promise<IncidentRow> {
  const [row] = await query<IncidentRow>(h.stateDb.url, 'SELECT state, failure, steps, attempt FROM incidents WHERE id = $1', [incidentId]);
  if (!row) throw new Error(`no incident ${incidentId}`);
  return row;
}

/** Waits until the incident is in `state`; returns its row. */
export const reachesState = (h: Harness, incidentId: string, state: string, timeoutMs = 30_000): Promise<IncidentRow> =>
  eventually(`incident ${incidentId} ${state}`, async () => {
    const row = await incidentRow(h, incidentId);
    return row.state === state ? row : null;
  }, timeoutMs);

/** Texts of the messages in a channel, oldest first, as last edited. */
export const channelTexts = (h: Harness, channel: string): string[] => h.slack.messages(channel).map((m) => `${m.text} ${JSON.stringify(m.blocks)}`);
