/**
 * The `migrate-bot` CLI on the same state database, Redis queues and Slack stand-in as a running
 * bot: exit codes are runbook 001's, `--json` is parsed, and what one surface starts the other
 * sees. Commands run in-process through `runCli` (the program `bin/migrate-bot.js` runs, with
 * the environment and output handed in); the rollback runs as a real process
 * (`node bin/migrate-bot.js`, the package's bin), as an operator would start it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVERS, REQUESTER, startHarness, type Harness } from '../support/bot-harness.js';
import { eventually, incidentRow, query, reachesState } from '../support/e2e-helpers.js';
import { TABLES_OF_007 } from '../support/ticket-service.js';
import { runCli, type CliIo } from '../../src/surfaces/cli/program.js';
import { startEngine } from '../../src/main/cli-engine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `migrate-bot <args>` in this process with the bot's environment; stdout and stderr are captured. */
async function cli(h: Harness, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    env: { ...h.rawEnv, ...env },
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    exitCode: 0,
  };
  const code = await runCli(args, io, startEngine);
  return { code, ...out };
}

/** Runs `node bin/migrate-bot.js <args>` as its own process. */
function cliProcess(h: Harness, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/migrate-bot.js', ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...h.rawEnv, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? -1) : 0;
        resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
      },
    );
  });
}

const json = <T>(run: CliRun): T => JSON.parse(run.stdout) as T;
/** An operator's environment without any Slack credential. */
const NO_SLACK = { SLACK_BOT_TOKEN: '', SLACK_SIGNING_SECRET: '' };
const applied = async (h: Harness) =>
  (await query<{ name: string }>(h.ticketDb.url, 'SELECT name FROM knex_migrations ORDER BY id')).map((r) => r.name);
const incidents = async (h: Harness) =>
  query<{ id: string; state: string }>(h.stateDb.url, 'SELECT id, state FROM incidents ORDER BY created_at');

describe('migrate-bot CLI (same engine, state and event log as the Slack app)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('triage, plan --dry-run and bad input: exit codes 0/1 and 5, JSON output, nothing written', async () => {
    const before = await applied(h);
    // Read-only commands need no Slack variables ("for when Slack is down").
    const triage = await cli(h, ['triage', 'ticket-service', '--json'], NO_SLACK);
    const report = json<{ service: string; checks: Array<{ name: string; verdict: string }> }>(triage);
    expect(report.service).toBe('ticket-service');
    expect(report.checks.map((c) => c.name)).toContain('migration_history');
    const worst = report.checks.some((c) => c.verdict !== 'ok');
    expect(triage.code).toBe(worst ? 1 : 0);

    const plan = await cli(h, ['plan', 'ticket-service', '007', '--json'], NO_SLACK);
    expect(plan.code).toBe(0);
    const p = json<{
      plan: Array<{ migration: string; sql: string[] }>;
      risk: { steps: Array<{ findings: Array<{ class: string; what: string }> }> };
    }>(plan);
    expect(p.plan.map((s) => s.migration)).toEqual(['007_add_security_tables.ts']);
    expect(p.plan[0]!.sql.join('\n')).toMatch(/drop table/i);
    expect(p.risk.steps[0]!.findings.map((f) => f.what)).toContain('drops table failed_login_attempts');

    const human = await cli(h, ['plan', 'ticket-service', '007']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /Dry run: rolling back 007_add_security_tables.ts on ticket-service would run 1 down migration/,
    );
    expect(human.stdout).toMatch(/! drops table failed_login_attempts — \d[\d,]* rows lost/);
    expect(human.stdout).toContain('| DROP TABLE IF EXISTS failed_login_attempts');
    expect(human.stdout).not.toMatch(/:warning:/);

    const unknown = await cli(h, ['plan', 'ticket-service', '999']);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toMatch(/999/);
    const noService = await cli(h, ['triage', 'no-such-service']);
    expect(noService.code).toBe(5);
    expect(noService.stderr).toMatch(/no-such-service/);
    expect((await cli(h, ['frobnicate'])).code).toBe(5);

    expect(await applied(h)).toEqual(before);
    expect(await incidents(h)).toEqual([]);
  });

  it('refuses a rollback without approvals, with too few, or a destructive one unconfirmed — and opens nothing', async () => {
    const none = await cli(h, ['rollback', 'ticket-service', '007'], { MIGRATE_BOT_CLI_USER: REQUESTER });
    expect(none.code).toBe(5);
    expect(none.stderr).toMatch(/needs --approved-by .* and --reason/);
    const one = await cli(
      h,
      [
        'rollback',
        'ticket-service',
        '007',
        '--approved-by',
        APPROVERS[0],
        '--reason',
        'Slack is down, approved on the bridge call',
      ],
      { MIGRATE_BOT_CLI_USER: REQUESTER },
    );
    expect(one.code).toBe(5);
    expect(one.stderr).toMatch(/needs 2 distinct approver\(s\) \(it is destructive\); --approved-by named 1/);
    const self = await cli(
      h,
      [
        'rollback',
        'ticket-service',
        '007',
        '--approved-by',
        APPROVERS.join(','),
        '--reason',
        'Slack is down, approved on the bridge call',
      ],
      { MIGRATE_BOT_CLI_USER: APPROVERS[0] },
    );
    expect(self.code).toBe(5);
    expect(self.stderr).toMatch(/requested this rollback and cannot approve it/);
    const unconfirmed = await cli(
      h,
      [
        'rollback',
        'ticket-service',
        '007',
        '--approved-by',
        APPROVERS.join(','),
        '--reason',
        'Slack is down, approved on the bridge call',
      ],
      { MIGRATE_BOT_CLI_USER: REQUESTER },
    );
    expect(unconfirmed.code).toBe(5);
    expect(unconfirmed.stderr).toMatch(/destructive: confirm with --confirm ticket-service/);
    expect(await incidents(h)).toEqual([]);
    expect(await applied(h)).toContain('007_add_security_tables.ts');
  });

  it('rolls back with recorded approvals and no Slack credentials, exit 0; the bot posts the channel and the resolution from the outbox; verify and status agree', async () => {
    const snap = await cli(h, ['snapshot', 'ticket-service', '--json'], { MIGRATE_BOT_CLI_USER: REQUESTER });
    expect(snap.code).toBe(0);
    const record = json<{ snapshot: { id: string; location: string; sha256: string } }>(snap).snapshot;
    expect(existsSync(record.location)).toBe(true);
    expect(record.sha256).toMatch(/^[0-9a-f]{64}$/);

    const run = await cliProcess(
      h,
      [
        'rollback',
        'ticket-service',
        '007',
        '--approved-by',
        APPROVERS.join(','),
        '--reason',
        'Slack is down, approved on the bridge call',
        '--confirm',
        'ticket-service',
        '--json',
      ],
      { MIGRATE_BOT_CLI_USER: REQUESTER, ...NO_SLACK },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = json<{ incident: { id: string; state: string; steps: Array<{ migration: string; status: string }> } }>(
      run,
    ).incident;
    expect(out.state).toBe('resolved');
    expect(out.steps).toEqual([expect.objectContaining({ migration: '007_add_security_tables.ts', status: 'done' })]);
    expect(await applied(h)).not.toContain('007_add_security_tables.ts');
    const left = await query<{ t: string | null }>(
      h.ticketDb.url,
      'SELECT to_regclass(x)::text AS t FROM unnest($1::text[]) AS x',
      [TABLES_OF_007],
    );
    expect(left.map((r) => r.t).filter(Boolean)).toEqual([]);

    // The same incident in Slack: its channel, the recorded approvals with the reason, the resolution.
    const row = await incidentRow(h, out.id);
    expect(row.state).toBe('resolved');
    const events = await query<{ type: string; actor: string }>(
      h.stateDb.url,
      'SELECT type, actor FROM incident_events WHERE incident_id = $1 ORDER BY id',
      [out.id],
    );
    expect(events).toContainEqual({ type: 'approvals_recorded', actor: REQUESTER });
    // Recorded on the approvers' behalf, never as if they had pressed Approve themselves.
    expect(events.filter((e) => e.type === 'approval_recorded')).toEqual([
      { type: 'approval_recorded', actor: REQUESTER },
      { type: 'approval_recorded', actor: REQUESTER },
    ]);
    expect(events.map((e) => e.type)).not.toContain('approval_given');
    const recorded = await query<{ data: Record<string, string> }>(
      h.stateDb.url,
      "SELECT data FROM incident_events WHERE incident_id = $1 AND type = 'approval_recorded' ORDER BY id",
      [out.id],
    );
    expect(recorded.map((r) => r.data)).toEqual(
      APPROVERS.map((approver) =>
        expect.objectContaining({
          via: 'cli',
          operator: REQUESTER,
          approver,
          reason: 'Slack is down, approved on the bridge call',
        }),
      ),
    );
    // The CLI had no Slack credentials: the bot's workers deliver what it left in the outbox.
    await h.slack.waitForCall('chat.postMessage', (c) => JSON.stringify(c.args).includes('Rollback complete.'), 30_000);
    const channelText = JSON.stringify(h.slack.callsTo('chat.postMessage').map((c) => c.args));
    expect(channelText).toContain(
      `recorded by <@${REQUESTER}> on behalf of <@${APPROVERS[0]}> (CLI, Slack unavailable): _Slack is down, approved on the bridge call_`,
    );
    expect(channelText).not.toContain('Each approver typed');
    await h.slack.waitForCall(
      'chat.postMessage',
      (c) => JSON.stringify(c.args).includes('Approvals recorded from the command line'),
      20_000,
    );
    await h.slack.waitForCall('chat.postMessage', (c) => JSON.stringify(c.args).includes('Rollback complete.'), 20_000);

    const verify = await cli(h, ['verify', 'ticket-service', '--json'], NO_SLACK);
    expect(verify.code).toBe(0);
    expect(json<{ passed: boolean }>(verify).passed).toBe(true);
  });

  it('an incident opened in Slack shows in the CLI status, and the CLI closes it; Slack status then shows none open', async () => {
    await h.command('rollback 006');
    const incidentId = await eventually(
      'the Slack incident to wait for approval',
      async () => (await incidents(h)).find((i) => i.state === 'awaiting_approval')?.id,
    );
    const status = await cli(h, ['status', 'ticket-service', '--json'], NO_SLACK);
    expect(status.code).toBe(0);
    const [view] = json<Array<{ incident: { id: string; state: string } | null; required: number }>>(status);
    expect(view!.incident!.id).toBe(incidentId);

    const outsider = await cli(h, ['close', incidentId.slice(0, 8), '--reason', 'opened by mistake'], {
      MIGRATE_BOT_CLI_USER: 'U0RAND01',
    });
    expect(outsider.code).toBe(5);
    expect((await incidentRow(h, incidentId)).state).not.toBe('cancelled');
    const closed = await cli(h, ['close', incidentId.slice(0, 8), '--reason', 'opened by mistake', '--json'], {
      MIGRATE_BOT_CLI_USER: APPROVERS[0],
    });
    expect(closed.code).toBe(0);
    expect(json<{ incident: { state: string } }>(closed).incident.state).toBe('cancelled');
    await reachesState(h, incidentId, 'cancelled');
    const { key } = await h.command('status');
    const reply = await h.slack.waitForResponse((r) => r.key === key);
    expect(String(reply.body.text)).toMatch(/no open incident/i);
  });

  it('acts only as MIGRATE_BOT_CLI_USER: --as is refused, an unset or non-requester operator opens nothing', async () => {
    const before = await incidents(h);
    const args = [
      'rollback',
      'ticket-service',
      '007',
      '--approved-by',
      APPROVERS.join(','),
      '--reason',
      'Slack is down, approved on the bridge call',
    ];
    const as = await cli(h, [...args, '--as', REQUESTER], { MIGRATE_BOT_CLI_USER: REQUESTER });
    expect(as.code).toBe(5);
    expect(as.stderr).toContain('`--as` is gone: the CLI acts as `MIGRATE_BOT_CLI_USER`');
    const unset = await cli(h, args);
    expect(unset.code).toBe(5);
    expect(unset.stderr).toContain('Set `MIGRATE_BOT_CLI_USER` to your Slack user ID');
    const bad = await cli(h, args, { MIGRATE_BOT_CLI_USER: 'alice' });
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain('MIGRATE_BOT_CLI_USER');
    expect(await incidents(h)).toEqual(before);
  });

  it('speaks plain text in a terminal: no Slack mention, channel link, bold or emoji markup in any output', async () => {
    const runs = [
      await cli(h, ['snapshot', 'ticket-service'], { MIGRATE_BOT_CLI_USER: REQUESTER }),
      await cli(h, ['plan', 'ticket-service', '007']),
      await cli(h, ['status']),
      await cli(h, ['triage', 'ticket-service']),
    ];
    expect(runs[0]!.code).toBe(0);
    expect(runs[0]!.stderr).toMatch(/Snapshot pre-rollback-ticket-service-\S+ of ticket-service is available/);
    for (const run of runs) {
      for (const out of [run.stdout, run.stderr]) {
        expect(out).not.toMatch(/<@|<#|<!/);
        expect(out).not.toMatch(/\*[^*\s][^*\n]*\*/);
        expect(out).not.toMatch(/:[a-z_]+:/);
      }
    }
  });
});
