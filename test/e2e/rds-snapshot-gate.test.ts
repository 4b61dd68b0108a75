import { afterEach, describe, expect, onTestFinished, vi } from 'vitest';
import { it } from '../support/bot-test.js';
import { APPROVERS } from '../support/bot-harness.js';
import type { RdsServer } from '../support/rds-server.js';
import {
  eventually,
  planCard,
  posted,
  query as rows,
  RDS_SERVICE,
  startRdsForBot,
  textOf,
} from '../support/e2e-helpers.js';
import { TABLES_OF_007 } from '../support/ticket-service.js';

describe('rollback with provider rds (real @aws-sdk/client-rds → loopback RDS endpoint)', () => {
  let rds: RdsServer | undefined;
  /** After the bot closes (onTestFinished runs after the `bot` fixture's cleanup): its snapshot polls end first. */
  const closeRds = async (): Promise<void> => {
    await rds?.close();
    rds = undefined;
  };
  afterEach(async () => {
    vi.unstubAllEnvs();
  });

  it('waits for the snapshot when approvals arrive first, then rolls back; the notice carries the real snapshot ID', async ({
    bot,
  }) => {
    rds = await startRdsForBot({ snapshotDelayMs: 3000 });
    onTestFinished(closeRds);
    const h = await bot(RDS_SERVICE, { snapshotPollSeconds: 1 });

    await h.command('rollback 007');
    const { incidentId } = await planCard(h);

    // Both approvals land while the RDS snapshot is still `creating`.
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await posted(h, 'waits for the snapshot');
    expect(await rows(h.ticketDb.url, "SELECT to_regclass('public.failed_login_attempts')::text AS t")).toEqual([
      { t: 'failed_login_attempts' },
    ]);

    const notice = await posted(h, 'Snapshot saved: `pre-rollback-ticket-service-');
    const snapshotId = /Snapshot saved: `(pre-rollback-ticket-service-\d{8}-\d{6})`/.exec(textOf(notice))?.[1];
    // The channel header links the snapshot's page in the RDS console.
    const bookmark = await eventually(
      'the snapshot bookmark',
      async () => h.slack.bookmarks.find((b) => b.title.startsWith('Snapshot ')) ?? null,
    );
    expect(bookmark.link).toBe(
      `https://us-east-1.console.aws.amazon.com/rds/home?region=us-east-1#db-snapshot:id=${snapshotId}`,
    );
    expect(snapshotId).toBeTruthy();
    expect(textOf(notice)).toContain(`arn:aws:rds:us-east-1:`);
    await posted(h, 'Rollback complete.', 30_000);

    // The snapshot was made once, for this instance, with the incident's tags.
    const creates = rds.requests.filter((r) => r.action === 'CreateDBSnapshot');
    expect(creates).toHaveLength(1);
    expect(creates[0]!.params.DBSnapshotIdentifier).toBe(snapshotId);
    expect(creates[0]!.params.DBInstanceIdentifier).toBe('tickettoken-production');
    expect(Object.values(creates[0]!.params)).toEqual(
      expect.arrayContaining(['incident', incidentId, 'service', 'ticket-service']),
    );

    // The gate: the snapshot was ready before the rollback started.
    const events = await rows<{ type: string }>(
      h.stateDb.url,
      'SELECT type FROM incident_events WHERE incident_id = $1 ORDER BY id',
      [incidentId],
    );
    const types = events.map((e) => e.type);
    expect(types.indexOf('snapshot_ready')).toBeGreaterThan(-1);
    expect(types.indexOf('snapshot_ready')).toBeLessThan(types.indexOf('rollback_started'));
    expect(
      await rows(h.ticketDb.url, 'SELECT x FROM unnest($1::text[]) AS x WHERE to_regclass(x) IS NOT NULL', [
        TABLES_OF_007,
      ]),
    ).toEqual([]);
    // Credentials never reach Slack.
    expect(JSON.stringify(h.slack.calls)).not.toContain('wJalrXUtnFEMI');
  });

  it('a snapshot that fails leaves the database untouched and the incident failed', async ({ bot }) => {
    rds = await startRdsForBot({ snapshotDelayMs: 500, fail: 'failed' });
    onTestFinished(closeRds);
    const h = await bot(RDS_SERVICE, { snapshotPollSeconds: 1 });
    await h.command('rollback 007');
    await posted(h, 'Rollback of `007_add_security_tables.ts` on ticket-service failed');
    const [incident] = await rows<{ id: string; state: string }>(h.stateDb.url, 'SELECT id, state FROM incidents');
    expect(incident!.state).toBe('failed');
    // Approving now is refused: nothing may run without a snapshot.
    const late = await h.press('incident_approve', incident!.id, APPROVERS[0]);
    expect((await h.slack.waitForResponse((r) => r.key === late.key)).body.text).toMatch(/failed/);
    expect(await rows(h.ticketDb.url, "SELECT to_regclass('public.failed_login_attempts')::text AS t")).toEqual([
      { t: 'failed_login_attempts' },
    ]);
  });
});
