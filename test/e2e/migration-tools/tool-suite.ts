import { afterEach, describe, expect, onTestFinished, vi } from 'vitest';
import { it } from '../../support/bot-test.js';
import { APPROVERS } from '../../support/bot-harness.js';
import {
  incidentRow,
  planCard,
  posted,
  RDS_SERVICE,
  reachesState,
  startRdsForBot,
  textOf,
} from '../../support/e2e-helpers.js';
import type { RdsServer } from '../../support/rds-server.js';
import pg from 'pg';
import { existingRelations, type ToolFixture } from '../../support/tool-fixtures.js';

/**
 * The main job for every migration tool the runbooks use, through the same signed-HTTP /
 * loopback-Slack path as the knex tests: plan card with the captured SQL, snapshot gate,
 * approvals, restart between approvals, the rollback job with lock_timeout, partial failure.
 * One test file per tool (beside this one), so the five run in parallel.
 */
export function toolRollbackSuite(fixture: ToolFixture): void {
  describe(`/migrate rollback for a ${fixture.label} service`, () => {
    let rds: RdsServer | undefined;
    /** After the bot closes (onTestFinished runs after the `bot` fixture's cleanup): its snapshot polls end first. */
    const closeRds = async (): Promise<void> => {
      await rds?.close();
      rds = undefined;
    };
    afterEach(async () => {
      vi.unstubAllEnvs();
    });

    it('plans with the captured SQL, survives a restart between approvals, rolls back and verifies the tracking table', async ({
      bot,
    }) => {
      const h = await bot({}, { fixture });
      await h.command(`rollback ${fixture.target}`);
      const card = await posted(h, '"action_id":"incident_approve"');
      for (const name of fixture.reverted) expect(textOf(card)).toContain(name);
      expect(textOf(card)).toContain(fixture.sqlShown.replace(/"/g, '\\"'));
      const { incidentId } = await planCard(h);
      await posted(h, 'Snapshot saved');

      await h.press('incident_approve', incidentId, APPROVERS[0]);
      await posted(h, '(1 of 2)');
      await h.restart();
      expect(await fixture.trackedNames(h.ticketDb.url)).toEqual(fixture.applied);
      await h.press('incident_approve', incidentId, APPROVERS[1]);

      const resolution = await posted(h, 'Rollback complete.', 30_000);
      expect(textOf(resolution)).toContain('Validation passed');
      expect(await existingRelations(h.ticketDb.url, fixture.createdRelations)).toEqual([]);
      expect(await fixture.trackedNames(h.ticketDb.url)).toEqual(
        fixture.applied.filter((n) => !fixture.reverted.includes(n)),
      );
      expect((await incidentRow(h, incidentId)).steps.map((s) => [s.migration, s.status])).toEqual(
        fixture.reverted.map((n) => [n, 'done']),
      );
    });

    it('stops at a step that meets lock_timeout: the newer step stays reverted, the blocked one and its tracking row stay, the blocker is named', async ({
      bot,
    }) => {
      const h = await bot({ lock_timeout: '1s' }, { fixture });
      await h.command(`rollback ${fixture.target}`);
      const { incidentId } = await planCard(h);
      await posted(h, 'Snapshot saved');
      const blocker = new pg.Client({ connectionString: h.ticketDb.url, application_name: 'report-job' });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query(`LOCK TABLE ${fixture.blockTable} IN ACCESS SHARE MODE`);
        await h.press('incident_approve', incidentId, APPROVERS[0]);
        await h.press('incident_approve', incidentId, APPROVERS[1]);
        const row = await reachesState(h, incidentId, 'failed', 40_000);
        expect(row.failure?.code).toBe('rollback_lock_timeout');
        expect(row.steps.map((s) => [s.migration, s.status])).toEqual([
          [fixture.reverted[0], 'done'],
          [fixture.reverted[1], 'failed'],
        ]);
        const failure = await posted(h, 'could not get its lock within');
        expect(textOf(failure)).toContain('report-job');
        expect(textOf(failure)).toContain('1 of 2 down migration(s) completed');
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        await blocker.end();
      }
      expect(await fixture.trackedNames(h.ticketDb.url)).toEqual(
        fixture.applied.filter((n) => n !== fixture.reverted[0]),
      );
    });

    it('waits for an RDS snapshot still being created when the approvals arrive first (the snapshot gate)', async ({
      bot,
    }) => {
      rds = await startRdsForBot({ snapshotDelayMs: 2500 });
      onTestFinished(closeRds);
      const h = await bot(RDS_SERVICE, { fixture, snapshotPollSeconds: 1 });
      await h.command(`rollback ${fixture.target}`);
      const { incidentId } = await planCard(h);
      await h.press('incident_approve', incidentId, APPROVERS[0]);
      await h.press('incident_approve', incidentId, APPROVERS[1]);
      await posted(h, 'waits for the snapshot');
      expect(await fixture.trackedNames(h.ticketDb.url)).toEqual(fixture.applied);
      await posted(h, 'Rollback complete.', 30_000);
      expect(await fixture.trackedNames(h.ticketDb.url)).toEqual(
        fixture.applied.filter((n) => !fixture.reverted.includes(n)),
      );
    });
  });
}
