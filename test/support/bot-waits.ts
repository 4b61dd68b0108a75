import pg from 'pg';
import type { Harness } from './bot-harness.js';
import type { RecordedCall } from './slack-api-server.js';

/**
 * Waiting on what the bot says and does, without vitest (the benchmarks use these too):
 * queries on the test databases, the Slack stand-in's recorded calls, incident states.
 */

/** Runs one query on its own connection and returns the rows. */
export async function query<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
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
  h.slack.waitForCall(
    'chat.postMessage',
    (c) => (typeof needle === 'string' ? textOf(c).includes(needle) : needle.test(textOf(c))),
    timeoutMs,
  );

/** Waits until the bot edits a message (`chat.update`: a redrawn plan card or summary) so that it contains `needle`. */
export const updated = (h: Harness, needle: string | RegExp, timeoutMs = 20_000): Promise<RecordedCall> =>
  h.slack.waitForCall(
    'chat.update',
    (c) => (typeof needle === 'string' ? textOf(c).includes(needle) : needle.test(textOf(c))),
    timeoutMs,
  );

/**
 * Waits for the plan card and returns the incident id its Approve button carries, and its channel;
 * with `except`, the card of another incident than that one (a second incident of the same test).
 */
export async function planCard(h: Harness, except?: string): Promise<{ incidentId: string; channel: string }> {
  const approveOf = (call: RecordedCall): string | undefined =>
    ((call.args.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>)
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === 'incident_approve')
      // The button's value is `<incident id>:<plan digest prefix>`.
      ?.value?.split(':')[0];
  const call = await h.slack.waitForCall(
    'chat.postMessage',
    (c) => {
      const id = approveOf(c);
      return id !== undefined && id !== except;
    },
    20_000,
  );
  const incidentId = approveOf(call);
  if (!incidentId) throw new Error('the plan card carries no incident id');
  return { incidentId, channel: call.args.channel as string };
}

/** Polls `check` every 100 ms until it returns a truthy value, which it returns; rejects with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
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
  /** The plan's steps as stored (migration, SQL, and `computed` for a computed step). */
  plan: Array<{ migration: string; sql: string[]; computed?: unknown }>;
  basis: { digest: string } | null;
}

/** Reads one incident straight from the state database. */
export async function incidentRow(h: Harness, incidentId: string): Promise<IncidentRow> {
  const [row] = await query<IncidentRow>(
    h.stateDb.url,
    'SELECT state, failure, steps, attempt, plan, basis FROM incidents WHERE id = $1',
    [incidentId],
  );
  if (!row) throw new Error(`no incident ${incidentId}`);
  return row;
}

/** Waits until the incident is in `state`; returns its row. */
export const reachesState = (h: Harness, incidentId: string, state: string, timeoutMs = 30_000): Promise<IncidentRow> =>
  eventually(
    `incident ${incidentId} ${state}`,
    async () => {
      const row = await incidentRow(h, incidentId);
      return row.state === state ? row : null;
    },
    timeoutMs,
  );

/** Texts of the messages in a channel, oldest first, as last edited. */
export const channelTexts = (h: Harness, channel: string): string[] =>
  h.slack.messages(channel).map((m) => `${m.text} ${JSON.stringify(m.blocks)}`);
