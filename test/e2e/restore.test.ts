import { afterEach, describe, expect, onTestFinished, vi } from 'vitest';
import { it, type StartBot } from '../support/bot-test.js';
import pg from 'pg';
import { APPROVERS, type Harness } from '../support/bot-harness.js';
import {
  channelTexts,
  planCard,
  posted,
  query,
  RDS_SERVICE,
  reachesState,
  startRdsForBot,
  textOf,
} from '../support/e2e-helpers.js';
import { readFile, writeFile } from 'node:fs/promises';
import { ADMIN_URL } from '../support/postgres.js';
import type { RdsServer } from '../support/rds-server.js';

describe('/migrate restore: to a NEW instance or database, after two approvals', () => {
  let rds: RdsServer | undefined;
  /** After the bot closes (onTestFinished runs after the `bot` fixture's cleanup): its snapshot polls end first. */
  const closeRds = async (): Promise<void> => {
    await rds?.close();
    rds = undefined;
  };
  const dropLater: string[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    for (const db of dropLater.splice(0))
      await query(ADMIN_URL, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db)} WITH (FORCE)`);
  });

  it('restores an RDS snapshot to <source>-recovery-<ts> and posts the endpoint and cut-over steps', async ({
    bot,
  }) => {
    rds = await startRdsForBot({ snapshotDelayMs: 200, restoreDelayMs: 1500 });
    onTestFinished(closeRds);
    const h = await bot(RDS_SERVICE, { snapshotPollSeconds: 1 });

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
    const [row] = await query<{ state: string; restore: { result: { endpoint: string } } }>(
      h.stateDb.url,
      'SELECT state, restore FROM incidents WHERE id = $1',
      [incidentId],
    );
    expect(row!.state).toBe('resolved');
    expect(row!.restore.result.endpoint).toMatch(/:\d+$/);
  });

  it('restores a pg_dump snapshot into <db>_recovery_<ts> on the same server; point-in-time is refused for pg_dump', async ({
    bot,
  }) => {
    const h = await bot();
    const refused = await h.command('restore --to 2026-01-01T00:00:00Z');
    expect(String((await h.slack.waitForResponse((r) => r.key === refused.key)).body.text)).toMatch(
      /Point-in-time restore needs an RDS instance/,
    );
    const both = await h.command('restore x --to 2026-01-01T00:00:00Z');
    expect(String((await h.slack.waitForResponse((r) => r.key === both.key)).body.text)).toMatch(
      /either a snapshot ID or --to/,
    );

    const snap = await h.command('snapshot');
    const done = await h.slack.waitForResponse(
      (r) => r.key === snap.key && JSON.stringify(r.body).includes('is available'),
      20_000,
    );
    const snapshotId = /`(pre-rollback-ticket-service-\d{8}-\d{6})`/.exec(JSON.stringify(done.body))![1]!;

    await h.command(`restore ${snapshotId}`);
    const { incidentId } = await planCard(h);
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await posted(h, 'Restore complete', 30_000);
    const [row] = await query<{ restore: { target: string } }>(
      h.stateDb.url,
      'SELECT restore FROM incidents WHERE id = $1',
      [incidentId],
    );
    const target = row!.restore.target;
    dropLater.push(target);
    expect(target).toMatch(new RegExp(`^${h.ticketDb.name}_recovery_\\d{8}_\\d{6}$`));
    const url = new URL(h.ticketDb.url);
    url.pathname = `/${target}`;
    const names = (await query<{ name: string }>(url.toString(), 'SELECT name FROM knex_migrations ORDER BY id')).map(
      (r) => r.name,
    );
    expect(names).toContain('007_add_security_tables.ts');
  });
  /** Takes an on-demand pg_dump snapshot of the harness's service and returns its id. */
  async function dumpNow(harness: Harness): Promise<string> {
    const snap = await harness.command('snapshot');
    const done = await harness.slack.waitForResponse(
      (r) => r.key === snap.key && JSON.stringify(r.body).includes('is available'),
      20_000,
    );
    return /`(pre-rollback-ticket-service-\d{8}-\d{6})`/.exec(JSON.stringify(done.body))![1]!;
  }
  const databases = async (prefix: string) =>
    (
      await query<{ datname: string }>(ADMIN_URL, 'SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1', [
        `${prefix}%`,
      ])
    ).map((r) => r.datname);
  /** Every message in a restore incident's channel says restore: no "rollback", no "waived". */
  const expectRestoreWords = (harness: Harness, channel: string) => {
    const texts = channelTexts(harness, channel);
    expect(texts.length).toBeGreaterThan(2);
    // Snapshot names carry `pre-rollback-` (runbook 004's naming); every other word must be restore's.
    for (const t of texts)
      expect(t.replace(/pre-rollback-/g, '')).not.toMatch(/rollback|waived|roll back|down migration/i);
  };

  it('an unknown snapshot id gets the recent snapshots and opens nothing', async ({ bot }) => {
    const h = await bot();
    const id = await dumpNow(h);
    const { key } = await h.command('restore pre-rollback-ticket-service-19990101-000000');
    const res = await h.slack.waitForResponse((r) => r.key === key);
    expect(res.body.response_type).toBe('ephemeral');
    expect(String(res.body.text)).toContain(
      'There is no snapshot `pre-rollback-ticket-service-19990101-000000` of *ticket-service*. Nothing was opened.',
    );
    expect(String(res.body.text)).toMatch(
      new RegExp(`Recent snapshots, newest first:\\n• \`${id}\` — \\d{4}-\\d\\d-\\d\\dT.* — \\d+ kB`),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(h.slack.callsTo('conversations.create')).toHaveLength(0);
    expect(await query(h.stateDb.url, "SELECT 1 FROM incidents WHERE kind = 'restore'")).toHaveLength(0);
    expect(await databases(`${h.ticketDb.name}_recovery`)).toEqual([]);
  });

  it('a dump changed after the incident opened fails the restore with the expected and found sha256, and creates nothing; every message says restore', async ({
    bot,
  }) => {
    const h = await bot();
    const id = await dumpNow(h);
    await h.command(`restore ${id}`);
    const { incidentId, channel } = await planCard(h);
    const file = `${h.snapshotDir}/${id}.dump`;
    const bytes = await readFile(file);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    await writeFile(file, bytes);
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    const row = await reachesState(h, incidentId, 'failed');
    expect(row.failure?.code).toBe('snapshot_verification_failed');
    const failure = await posted(h, 'failed.*');
    expect(textOf(failure)).toMatch(
      /Restore of snapshot `pre-rollback-ticket-service-\d{8}-\d{6}` into the new database `\w+` on ticket-service failed/,
    );
    expect(textOf(failure)).toMatch(/expected `[0-9a-f]{64}`, found `[0-9a-f]{64}`/);
    expect(await databases(`${h.ticketDb.name}_recovery`)).toEqual([]);
    expectRestoreWords(h, channel);
  });

  it('two restores of one source in the same minute get two new databases', async ({ bot }) => {
    const h = await bot();
    const id = await dumpNow(h);
    const targets: string[] = [];
    for (let i = 0; i < 2; i++) {
      await h.command(`restore ${id}`);
      const card = await eventuallyNewCard(h, i);
      await h.press('incident_approve', card, APPROVERS[0]);
      await h.press('incident_approve', card, APPROVERS[1]);
      await reachesState(h, card, 'resolved');
      const [row] = await query<{ restore: { target: string } }>(
        h.stateDb.url,
        'SELECT restore FROM incidents WHERE id = $1',
        [card],
      );
      targets.push(row!.restore.target);
      dropLater.push(row!.restore.target);
      await new Promise((r) => setTimeout(r, 1100)); // a new second: the name carries it
    }
    expect(targets[0]).not.toBe(targets[1]);
    expect(await databases(`${h.ticketDb.name}_recovery`)).toEqual([...targets].sort());
  });

  /** An Aurora service with an on-demand cluster snapshot, restored and approved by both approvers. */
  async function approvedAuroraRestore(
    server: RdsServer,
    bot: StartBot,
  ): Promise<{ harness: Harness; incidentId: string; channel: string }> {
    const harness = await bot(
      { snapshot: { provider: 'rds-cluster', cluster: 'tickettoken-aurora', max_wait_minutes: 1 } },
      { snapshotPollSeconds: 1 },
    );
    const snap = await harness.command('snapshot');
    await harness.slack.waitForResponse(
      (r) => r.key === snap.key && JSON.stringify(r.body).includes('is available'),
      20_000,
    );
    const snapshotId = server.requests.find((r) => r.action === 'CreateDBClusterSnapshot')!.params
      .DBClusterSnapshotIdentifier!;
    await harness.command(`restore ${snapshotId}`);
    const card = await planCard(harness);
    await harness.press('incident_approve', card.incidentId, APPROVERS[0]);
    await harness.press('incident_approve', card.incidentId, APPROVERS[1]);
    return { harness, ...card };
  }

  it('an Aurora restore creates the cluster and its writer and posts the cluster endpoint', async ({ bot }) => {
    rds = await startRdsForBot({ snapshotDelayMs: 200, restoreDelayMs: 800 });
    onTestFinished(closeRds);
    rds.addCluster('tickettoken-aurora', { engine: 'aurora-postgresql' });
    rds.addInstance('tickettoken-aurora-1', {
      cluster: 'tickettoken-aurora',
      instanceClass: 'db.r6g.2xlarge',
      engine: 'aurora-postgresql',
    });
    const aurora = await approvedAuroraRestore(rds, bot);
    const h = aurora.harness;
    const { channel } = aurora;
    const done = await posted(h, 'Restore complete', 40_000);
    const target = rds.requests.find((r) => r.action === 'RestoreDBClusterFromSnapshot')!.params.DBClusterIdentifier!;
    expect(target).toMatch(/^tickettoken-aurora-recovery-\d{8}-\d{6}$/);
    expect(textOf(done)).toContain(`${target}.cluster-c0abcdefghij.us-east-1.rds.amazonaws.com:5432`);
    expect(textOf(done)).toContain(`\`${target}-writer\``);
    expect(rds.requestsFor('CreateDBInstance')[0]!.params).toMatchObject({
      DBClusterIdentifier: target,
      DBInstanceClass: 'db.r6g.2xlarge',
    });
    await posted(h, 'into the new Aurora cluster');
    expectRestoreWords(h, channel);
  });

  it('a restore that fails after the create call names its leftover; two approvers have the bot delete it, the requester cannot', async ({
    bot,
  }) => {
    rds = await startRdsForBot({ snapshotDelayMs: 200, restoreDelayMs: 500 });
    onTestFinished(closeRds);
    rds.addCluster('tickettoken-aurora', { engine: 'aurora-postgresql' }); // no writer to copy a class from, none configured
    const aurora = await approvedAuroraRestore(rds, bot);
    const h = aurora.harness;
    const { incidentId, channel } = aurora;
    const row = await reachesState(h, incidentId, 'failed', 40_000);
    expect(row.failure?.code).toBe('restore_writer_class_unknown');
    const target = rds.requests.find((r) => r.action === 'RestoreDBClusterFromSnapshot')!.params.DBClusterIdentifier!;
    const failure = await posted(h, '"action_id":"restore_discard"');
    expect(textOf(failure)).toContain(`The half-made cluster \`${target}\` exists and was left as it is`);
    expect(textOf(failure)).toContain('snapshot.writer_instance_class');
    expect(rds.clusterIds()).toContain(target);

    const self = await h.press('restore_discard', incidentId, 'U0REQ001');
    expect(String((await h.slack.waitForResponse((r) => r.key === self.key)).body.text)).toMatch(
      /You requested this restore/,
    );
    await h.press('restore_discard', incidentId, APPROVERS[0]);
    await posted(h, `approved deleting \`${target}\` (1 of 2)`);
    const again = await h.press('restore_discard', incidentId, APPROVERS[0]);
    expect(String((await h.slack.waitForResponse((r) => r.key === again.key)).body.text)).toMatch(
      /already approved this deletion/,
    );
    expect(rds.requestsFor('DeleteDBCluster')).toHaveLength(0);
    await h.press('restore_discard', incidentId, APPROVERS[1]);
    await posted(h, `\`${target}\` was deleted`, 30_000);
    expect(rds.requestsFor('DeleteDBCluster')[0]!.params).toMatchObject({
      DBClusterIdentifier: target,
      SkipFinalSnapshot: 'true',
    });
    expect(rds.clusterIds()).not.toContain(target);
    expect(rds.clusterIds()).toContain('tickettoken-aurora');
    const late = await h.press('restore_discard', incidentId, APPROVERS[1]);
    expect(String((await h.slack.waitForResponse((r) => r.key === late.key)).body.text)).toMatch(/already deleted/);
    expectRestoreWords(h, channel);
  });
});

/** The plan card of the `n`-th restore incident (0-based) in this harness. */
async function eventuallyNewCard(h: Harness, n: number): Promise<string> {
  const until = Date.now() + 20_000;
  for (;;) {
    const cards = h.slack
      .callsTo('chat.postMessage')
      .filter((c) => textOf(c).includes('"action_id":"incident_approve"'));
    if (cards.length > n) {
      const blocks = cards[n]!.args.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>;
      return blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'incident_approve')!.value!;
    }
    if (Date.now() > until) throw new Error(`no plan card #${n + 1}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
