/**
 * An outage of the bot's own state database (a PostgreSQL cluster of this test's own, stopped
 * and started): errors name the state database, never the service's; the rollback job waits
 * (no attempt spent) and, once the database is back, resumes from the tracking table, so a
 * rollback whose downs committed during the outage resolves and verifies instead of failing.
 */
import { describe, expect, onTestFinished } from 'vitest';
import { it } from '../support/bot-test.js';
import type { Harness } from '../support/bot-harness.js';
import { eventually, posted, query, reachesState } from '../support/e2e-helpers.js';
import { startOwnPostgres } from '../support/own-postgres.js';
import { createSlowServiceDb, rollbackIntoStepTwo, SLOW_SERVICE } from '../support/slow-service.js';

const responseText = async (h: Harness, key: string) =>
  String((await h.slack.waitForResponse((r) => r.key === key, 15_000)).body.text);

describe("an outage of the bot's own state database", () => {
  it('is named as such, and a rollback whose downs committed while it was down resolves once it is back', async ({
    bot,
  }) => {
    const own = await startOwnPostgres();
    onTestFinished(() => own.destroy());
    const slow = await createSlowServiceDb(3);
    onTestFinished(() => slow.drop());
    const stateDb = { name: 'mb_state', url: own.url('mb_state'), drop: async () => undefined };
    const h = await bot(SLOW_SERVICE, { ticketDatabaseUrl: slow.url, stateDb });

    const { incidentId } = await rollbackIntoStepTwo(h);

    // Down across the end of step 2 (it sleeps 3 s, then commits on the service database).
    await own.stop();
    const status = await h.command('status');
    const said = await responseText(h, status.key);
    expect(said).toContain("migrate-bot's own state database");
    expect(said).not.toMatch(/database of \*?ticket-service\*? is unreachable/);
    const ready = await fetch(`http://127.0.0.1:${h.bot.opsPort}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toMatch(/"state_db":"[^"]*state database unreachable/);
    // Step 2 committed on the service database while the bot could record nothing.
    await eventually(
      'step 2 committed on the service database',
      async () =>
        (await query<{ name: string }>(slow.url, 'SELECT name FROM knex_migrations')).every(
          (r) => r.name !== '002_add_order_notes.ts',
        ),
      15_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 4000)); // the outage lasts on: ~10 s in all
    await own.start();

    const resolved = await reachesState(h, incidentId, 'resolved', 60_000);
    expect(resolved.failure).toBeNull();
    expect(await query(slow.url, 'SELECT name FROM knex_migrations')).toEqual([]);
    await posted(h, /state database was unreachable for \d+s; the rollback waited and resumed/);
    await posted(h, 'Rollback complete.');
    const events = await query<{ type: string }>(
      h.stateDb.url,
      "SELECT type FROM incident_events WHERE incident_id = $1 AND type IN ('failed', 'rollback_succeeded') ORDER BY id",
      [incidentId],
    );
    expect(events.map((e) => e.type)).toEqual(['rollback_succeeded']);
  });
});
