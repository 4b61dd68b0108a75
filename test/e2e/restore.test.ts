import { afterEach, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { APPROVERS, startHarness, type Harness } from '../support/bot-harness.js';
import { planCard, posted, query, RDS_SERVICE, startRdsForBot, textOf } from '../support/e2e-helpers.js';
import { ADMIN_URL } from '../support/postgres.js';
import type { RdsServer } from '../support/rds-server.js';

describe('/migrate restore: to a NEW instance or database, after two approvals', () => {
  let h: Harness | undefined;
  let rds: RdsServer | undefined;
  const dropLater: string[] = [];
  afterEach(async () => {
    await h?.close();
    await rds?.close();
    vi.unstubAllEnvs();
    for (const db of dropLater.splice(0)) await query(ADMIN_URL, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db)} WITH (FORCE)`);
    h = undefined;
    rds = undefined;
  });

  it('restores an RDS snapshot to <source>-recovery-<ts> and posts the endpoint and cut-over steps', async () => {
    rds = await startRdsForBot({ snapshotDelayMs: 200, restoreDelayMs: 1500 });
    h = await startHarness(RDS_SERVICE, { snapshotPollSeconds: 1 });

    // An on-demand snapshot to restore from.
    const snap = await h.command('snapshot');
    await h.slack.waitForResponse((r) => r.key === snap.key && JSON.stringify(r.body).includes('is available'), 20_000);
    const snapshotId = rds.requests.find((r) => r.action === 'CreateDBSnapshot')!.params.DBSnapshotIdentifier!;

    const { key } = await h.command(`restore ${snapshotId}`);
    const reply = await h.slack.waitForResponse((r) => r.key === key);
    expect(String(reply.body.text)).toMatch(/tickettoken-production-recovery-\d{8}-\d{6}/);
    const { incidentId } = await planCard(h);
    expect(rds.requests.some((r) => r.action.startsWith('Restore'))).toBe(false); // nothing before approval
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    const done = await posted(h, 'Restore complete', 30_000);
    expect(textOf(done)).toContain('Point `DATABASE_URL` at the copy');

    const restore = rds.requests.find((r) => r.action === 'RestoreDBInstanceFromDBSnapshot')!;
    expect(restore.params.DBSnapshotIdentifier).toBe(snapshotId);
    expect(restore.params.DBInstanceIdentifier).toMatch(/^tickettoken-production-recovery-\d{8}-\d{6}$/);
    expect(restore.params.DBInstanceIdentifier).not.toBe('tickettoken-production');
    const [row] = await query<{ state: string; restore: { result: { endpoint: string } } }>(h.stateDb.url, 'SELECT state, restore FROM incidents WHERE id = $1', [incidentId]);
    expect(row!.state).toBe('resolved');
    expect(row!.restore.result.endpoint).toMatch(/:\d+$/);
  });

  it('restores a pg_dump snapshot into <db>_recovery_<ts> on the same server; point-in-time is refused for pg_dump', async () => {
    h = await startHarness();
    const refused = await h.command('restore --to 2026-01-01T00:00:00Z');
    expect(String((await h.slack.waitForResponse((r) => r.key === refused.key)).body.text)).toMatch(/Point-in-time restore needs an RDS instance/);
    const both = await h.command('restore x --to 2026-01-01T00:00:00Z');
    expect(String((await h.slack.waitForResponse((r) => r.key === both.key)).body.text)).toMatch(/either a snapshot ID or --to/);

    const snap = await h.command('snapshot');
    const done = await h.slack.waitForResponse((r) => r.key === snap.key && JSON.stringify(r.body).includes('is available'), 20_000);
    const snapshotId = /`(pre-rollback-ticket-service-\d{8}-\d{6})`/.exec(JSON.stringify(done.body))![1]!;

    await h.command(`restore ${snapshotId}`);
    const { incidentId } = await planCard(h);
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await posted(h, 'Restore complete', 30_000);
    const [row] = await query<{ restore: { target: string } }>(h.stateDb.url, 'SELECT restore FROM incidents WHERE id = $1', [incidentId]);
    const target = row!.restore.target;
    dropLater.push(target);
    expect(target).toMatch(new RegExp(`^${h.ticketDb.name}_recovery_\\d{8}_\\d{6}$`));
    const url = new URL(h.ticketDb.url);
    url.pathname = `/${target}`;
    const names = (await query<{ name: string }>(url.toString(), 'SELECT name FROM knex_migrations ORDER BY id')).map((r) => r.name);
    expect(names).toContain('007_add_security_tables.ts');
  });
});
