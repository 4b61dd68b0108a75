import { describe, expect, it } from 'vitest';
import { DEFAULT_SEVERITIES, resolveProcess } from '../../../src/config/process-config.js';
import { parseSeverity, statusUpdateMinutes } from '../../../src/domain/incident/process/severity.js';
import { median, percentile, recoveryReport } from '../../../src/domain/incident/process/report.js';
import { recoveryDurations, shortDuration } from '../../../src/domain/incident/process/lifecycle.js';
import { reportText, parseSince } from '../../../src/surfaces/cli/process-commands.js';
import { parseImpactTime, parseMigrateCommand } from '../../../src/surfaces/slack/parse-command.js';
import { toAdf } from '../../../src/adapters/followups/jira.js';
import { wordsPlain } from '../../../src/shared/words.js';
import { isAppError } from '../../../src/shared/errors.js';
import { incidentFixture } from '../../support/incident-fixture.js';

const at = (min: number) => new Date(Date.UTC(2026, 11, 1, 10, 0) + min * 60_000).toISOString();

describe('severity', () => {
  it('is found by level or by name in any case, and an unknown one names the choices', () => {
    expect(parseSeverity('2', DEFAULT_SEVERITIES).name).toBe('SEV2');
    expect(parseSeverity('sev4', DEFAULT_SEVERITIES).name).toBe('SEV4');
    try {
      parseSeverity('9', DEFAULT_SEVERITIES);
      expect.unreachable();
    } catch (err) {
      expect(isAppError(err, 'command_invalid')).toBe(true);
      expect(wordsPlain((err as { userMessage: never }).userMessage)).toContain('`SEV1` (1, critical');
    }
  });

  it("sets the status-update interval when the level has its own, else the service's", () => {
    const service = {
      status_update_minutes: 20,
      process: {
        severities: [{ ...DEFAULT_SEVERITIES[0]!, status_update_minutes: 15 }, ...DEFAULT_SEVERITIES.slice(1)],
        defaultSeverity: 'SEV3',
        paging: null,
        followups: null,
        pageAfterMinutes: 10,
      },
    };
    expect(statusUpdateMinutes(service, 'SEV1')).toBe(15);
    expect(statusUpdateMinutes(service, 'SEV3')).toBe(20);
    expect(statusUpdateMinutes(service, null)).toBe(20);
  });
});

describe('services.yaml: the process sections', () => {
  it('takes defaults, reads secrets from the environment, and names what is missing', () => {
    const problems: string[] = [];
    const p = resolveProcess(
      'ticket-service',
      { incident: { default_severity: 'sev2' } },
      undefined,
      {
        paging: {
          provider: 'pagerduty',
          routing_key_env: 'PD_KEY',
          events_url: 'https://events.pagerduty.com/v2/enqueue',
        },
        followups: {
          provider: 'jira',
          base_url: 'https://acme.atlassian.net',
          project_key: 'OPS',
          issue_type: 'Task',
          token_env: 'JIRA_T',
        },
        approvals: { page_after_minutes: 5 },
      },
      { PD_KEY: 'k'.repeat(32) },
      problems,
    );
    expect(p.defaultSeverity).toBe('SEV2');
    expect(p.paging?.routing_key).toBe('k'.repeat(32));
    expect(p.followups).toBeNull();
    expect(p.pageAfterMinutes).toBe(5);
    expect(problems).toEqual(['services.ticket-service.followups.token_env: environment variable JIRA_T is not set']);
    const bad: string[] = [];
    resolveProcess('x', { incident: { default_severity: 'P0' } }, undefined, {}, {}, bad);
    expect(bad[0]).toContain('P0 is not one of the severities (SEV1, SEV2, SEV3, SEV4)');
  });
});

describe('recovery figures', () => {
  it('times to approve, recover and the impact come from the lifecycle times', () => {
    const d = recoveryDurations({ impactStarted: at(-30), detected: at(0), approved: at(4), recovered: at(9) });
    expect(d).toEqual({ timeToApproveMs: 240_000, timeToRecoverMs: 540_000, impactMs: 39 * 60_000 });
    expect(shortDuration(45_000)).toBe('45 s');
    expect(shortDuration(125 * 60_000)).toBe('2 h 05 min');
  });

  it('median and nearest-rank p90', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([7], 90)).toBe(7);
    expect(median([])).toBeNull();
  });

  it('migrate-bot report: per service, incidents, rollbacks vs restores, median and p90 time to recover, failures by code', () => {
    const recovered = (minutes: number, severity = 'SEV2') =>
      incidentFixture('resolved', {
        severity,
        milestones: { detected: at(0), approved: at(2), recovered: at(minutes) },
      });
    const incidents = [
      ...[4, 6, 8, 10, 30].map((m) => recovered(m)),
      incidentFixture('failed', {
        failure: { code: 'rollback_lock_timeout', message: 'x' },
        milestones: { detected: at(0) },
      }),
      incidentFixture('resolved', {
        kind: 'restore',
        service: 'events-service',
        severity: null,
        milestones: { detected: at(0), recovered: at(20) },
      }),
    ];
    const rows = recoveryReport(incidents);
    expect(rows.map((r) => r.service)).toEqual(['events-service', 'ticket-service']);
    const t = rows[1]!;
    expect(t).toMatchObject({
      incidents: 6,
      rollbacks: 6,
      restores: 0,
      recovered: 5,
      medianTimeToRecoverMs: 8 * 60_000,
      p90TimeToRecoverMs: 30 * 60_000,
      medianTimeToApproveMs: 2 * 60_000,
      bySeverity: { SEV2: 5, SEV3: 1 },
      failures: { rollback_lock_timeout: 1 },
    });
    expect(rows[0]).toMatchObject({ restores: 1, bySeverity: { none: 1 }, medianTimeToRecoverMs: 20 * 60_000 });
    const text = reportText(rows, '30 days');
    expect(text).toContain('median recover');
    expect(text).toMatch(
      /ticket-service\s+6\s+6\s+0\s+5\s+8 min\s+30 min\s+2 min\s+SEV2 5, SEV3 1\s+rollback_lock_timeout 1/,
    );
    expect(parseSince('30d')).toBe(30 * 86_400_000);
    expect(() => parseSince('0d')).toThrow();
  });
});

describe('/migrate commands of the process', () => {
  it('parse severity, roles from mentions, follow-ups with an owner, and impact times', () => {
    expect(parseMigrateCommand('rollback 007 --sev 1 --private')).toMatchObject({ severity: '1', private: true });
    expect(parseMigrateCommand('role comms <@U0OWN001|owner>')).toEqual({
      kind: 'role',
      role: 'comms',
      user: 'U0OWN001',
    });
    expect(parseMigrateCommand('followup "write the fix-forward" <@U0OWN001|o>')).toEqual({
      kind: 'followup',
      text: 'write the fix-forward',
      owner: 'U0OWN001',
    });
    for (const bad of ['role boss <@U0OWN001>', 'role comms bob', 'followup no', 'impact-started yesterday'])
      expect(() => parseMigrateCommand(bad), bad).toThrow();
    const now = new Date('2026-12-05T10:00:00Z');
    expect(parseImpactTime('09:15', now)?.toISOString()).toBe('2026-12-05T09:15:00.000Z');
    expect(parseImpactTime('23:50', now)?.toISOString()).toBe('2026-12-04T23:50:00.000Z');
  });

  it('Jira descriptions are Atlassian Document Format paragraphs', () => {
    expect(toAdf(['a', '', 'b'])).toEqual({
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: 'a' }] },
        { type: 'paragraph', content: [{ type: 'text', text: 'b' }] },
      ],
    });
  });
});
