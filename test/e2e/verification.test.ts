import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect } from 'vitest';
import { it } from '../support/bot-test.js';
import { APPROVERS, REQUESTER, type Harness } from '../support/bot-harness.js';
import { planCard, posted, query, reachesState, textOf } from '../support/e2e-helpers.js';
import { TICKET_MIGRATIONS_DIR } from '../support/ticket-service.js';

/** 008 creates event_reminders; its down has a typo and drops event_reminder (runbook 003: objects gone?). */
const MIGRATION_008 = `import type { Knex } from 'knex';
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE TABLE event_reminders (id serial PRIMARY KEY, note text)');
}
export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS event_reminder');
}
`;

const responseText = async (h: Harness, key: string): Promise<string> =>
  String((await h.slack.waitForResponse((r) => r.key === key)).body.text);
const responseAll = async (h: Harness, key: string): Promise<string> =>
  JSON.stringify((await h.slack.waitForResponse((r) => r.key === key)).body);

describe('verification after a rollback (runbook 003 "Post-rollback verification", runbook 001 postflight)', () => {
  let dir: string | undefined;
  let health: http.Server | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await new Promise((r) => (health ? health.close(r) : r(undefined)));
    dir = undefined;
    health = undefined;
  });

  it('a down with a typo leaves the table: not "Validation passed" but resolved with warnings, visible in status until acknowledged', async ({
    bot,
  }) => {
    let healthStatus = 200;
    health = http.createServer((_req, res) => res.writeHead(healthStatus).end('ok'));
    await new Promise<void>((r) => health!.listen(0, '127.0.0.1', r));
    const healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/healthz`;
    dir = await mkdtemp(path.join(os.tmpdir(), 'mb-verify-'));
    await cp(TICKET_MIGRATIONS_DIR, dir, { recursive: true });
    await writeFile(path.join(dir, '008_add_event_reminders.ts'), MIGRATION_008);
    const h = await bot({
      migrations: { tool: 'knex', directory: dir },
      verify: {
        smoke_queries: [
          { name: 'tickets_readable', sql: 'SELECT count(*) >= 0 FROM tickets', expect: true },
          {
            name: 'no_reminders_table',
            sql: "SELECT 1 FROM pg_class WHERE relname = 'event_reminders'",
            expect_rows: 0,
          },
        ],
        health_urls: [healthUrl],
      },
    });
    await query(
      h.ticketDb.url,
      'CREATE TABLE event_reminders (id serial PRIMARY KEY, note text); INSERT INTO event_reminders (note) SELECT g::text FROM generate_series(1, 100) g',
    );
    await query(
      h.ticketDb.url,
      "INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('008_add_event_reminders.ts', 3, now())",
    );

    await h.command('rollback 008');
    const { incidentId } = await planCard(h);
    await posted(h, 'Snapshot saved');
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    const resolution = await posted(h, 'Rollback complete, but validation FAILED', 30_000);
    expect(textOf(resolution)).not.toContain('Validation passed');
    expect(textOf(resolution)).toContain('3 of 6 checks (objects, smoke queries, schema fingerprint)');
    // Each check's figures are in the thread under the headline.
    const details = await posted(h, 'Resolution details');
    expect(details.args.thread_ts).toBeTruthy();
    const text = textOf(details);
    expect(text).toContain(
      'table `event_reminders` still exists: the up of `008_add_event_reminders.ts` created it and the rollback reverts that up',
    );
    expect(text).toContain('`no_reminders_table` returned 1 row(s), expected 0');
    // The schema next to a fresh migrate up of 001–007 on a scratch database: the leftover table and its columns differ.
    expect(text).toContain('only in the service database: table public.event_reminders (r)');
    expect(text).toMatch(
      /Schema fingerprint against a fresh migrate up \(runbook 001 postflight\)\* — \d+ schema objects compared with a fresh migrate up through 7 migration\(s\): \d+ difference/,
    );
    expect(text).toMatch(
      /:white_check_mark: \*Tracking table\* — head is `007_add_security_tables.ts`; none of the 1 reverted migration\(s\) listed; no dirty row \(\d+ ms\)/,
    );
    expect(text).toMatch(
      /:white_check_mark: \*Health endpoints \(services.yaml verify.health_urls\)\* — 1 of 1 answered 2xx/,
    );
    expect((await reachesState(h, incidentId, 'resolved_with_warnings')).state).toBe('resolved_with_warnings');
    expect(await query(h.ticketDb.url, 'SELECT count(*)::int AS n FROM event_reminders')).toEqual([{ n: 100 }]);

    // Visible in /migrate status until acknowledged; a new rollback may open meanwhile.
    const status = await h.command('status');
    expect(await responseAll(h, status.key)).toMatch(
      /\*resolved with warnings\*[\s\S]*`\/migrate close --service ticket-service --reason [^`]*` acknowledges the warnings/,
    );

    // /migrate verify runs the same checks any time; a health URL answering 503 fails its check.
    healthStatus = 503;
    const verify = await h.command('verify');
    expect(await responseText(h, verify.key)).toMatch(
      /^Verification of ticket-service: 4 of 6 checks failed \(objects, smoke_queries, schema_fingerprint, health_urls\)\. Details in <#C/,
    );
    await posted(h, 'answered HTTP 503');

    const ack = await h.command('close --reason "dropped event_reminders by hand, fixing the down"', REQUESTER);
    expect(await responseText(h, ack.key)).toMatch(/closed|cancelled/);
    await reachesState(h, incidentId, 'resolved');
    await posted(h, 'acknowledged the failed verification checks');
    const after = await h.command('status');
    expect(await responseAll(h, after.key)).toMatch(/no open incident/);
  });
});
