/**
 * `migrate-bot check`: every down tested on a scratch database before any incident, for each
 * tool of the registry, through the real program (`runCli` with the check engine of
 * `bin/migrate-bot.js`) against the real PostgreSQL. A correct set of downs exits 0; a down with a
 * typo that leaves a table behind exits 1 and names the table; a server that refuses CREATE
 * DATABASE exits 2 and names the privilege; `--record` keeps one row per migration file in the
 * state database; `--since` tests only what git says changed.
 */
import { execFile } from 'node:child_process';
import { appendFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../src/surfaces/cli/program.js';
import { startEngine } from '../../src/main/cli-engine.js';
import { startCheck } from '../../src/main/check-engine.js';
import { checkFixture, writeServicesFile, type CheckFixture } from '../support/check-fixtures.js';
import { ADMIN_URL, withAdmin } from '../support/pg-admin.js';
import { createStateDatabase, type StateDatabase } from '../support/state-db.js';
import { query } from '../support/e2e-helpers.js';

const git = promisify(execFile);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function check(args: string[], env: Record<string, string>): Promise<Run> {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    exitCode: 0,
  };
  const code = await runCli(['check', ...args], io, startEngine, startCheck);
  return { code, ...out };
}

interface Row {
  migration: string;
  up: string;
  down: string;
  restored: boolean | null;
  difference: { remaining: string[]; missing: string[] } | null;
  reapplied: string;
  risk: string[];
  checksum: string | null;
}

/** No scratch database of this file's runs is left behind. */
async function leftoverScratch(): Promise<string[]> {
  return (
    await query<{ datname: string }>(
      ADMIN_URL,
      "SELECT datname FROM pg_database WHERE datname LIKE 'migrate_bot_check_%'",
    )
  ).map((r) => r.datname);
}

const TOOLS = ['knex', 'node-pg-migrate', 'sql', 'drizzle'] as const;

describe.each(TOOLS)('migrate-bot check with %s', (tool) => {
  let good: CheckFixture;
  let typo: CheckFixture;
  const env = (file: string) => ({
    SERVICES_FILE: file,
    CHECK_SERVICE_URL: ADMIN_URL,
    LOG_LEVEL: 'silent',
  });
  let goodFile: string;
  let typoFile: string;

  beforeAll(async () => {
    good = await checkFixture(tool, false);
    typo = await checkFixture(tool, true);
    goodFile = await writeServicesFile(good, 'events', 'CHECK_SERVICE_URL');
    typoFile = await writeServicesFile(typo, 'events', 'CHECK_SERVICE_URL');
  });

  it('exits 0 when every down restores the schema, with a row per migration', async () => {
    const run = await check(['events', '--json'], env(goodFile));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { rows: Row[]; passed: boolean; tool: string };
    expect(report.tool).toBe(tool);
    expect(report.passed).toBe(true);
    expect(report.rows.map((r) => r.migration)).toEqual(good.names);
    for (const row of report.rows) {
      expect(row.up).toBe('ok');
      if (good.irreversible.includes(row.migration)) {
        expect(row.down).toBe('irreversible');
        expect(row.restored).toBeNull();
        continue;
      }
      expect(row).toMatchObject({ down: 'ok', restored: true, reapplied: 'ok' });
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
    }
    // The downs that drop a table are data loss, from the same classifier as the plan card.
    expect(report.rows.some((r) => r.risk.includes('data_loss'))).toBe(true);
  });

  it('exits 1 on a down with a typo and names the table it leaves behind', async () => {
    const run = await check(['events'], env(typoFile));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      new RegExp(`${typo.typo!.replace(/\./g, '\\.')}\\s+ok\\s+ok\\s+no: table public\\.audit_log would remain`),
    );
    expect(run.stdout).toContain('1 of ');
    const json = JSON.parse((await check(['events', '--json'], env(typoFile))).stdout) as { rows: Row[] };
    const bad = json.rows.find((r) => r.migration === typo.typo)!;
    expect(bad.difference!.remaining).toEqual(['table public.audit_log']);
    // Applied again after the down, the up meets the table the down left: that is a finding too.
    expect(bad.reapplied).toBe('failed');
    expect(await leftoverScratch()).toEqual([]);
  });
});

describe('migrate-bot check: setup, --record and --since', () => {
  let state: StateDatabase;
  let fixture: CheckFixture;
  let file: string;
  const role = `mb_check_nocreate_${process.pid}`;

  beforeAll(async () => {
    state = await createStateDatabase('mb_check_state');
    fixture = await checkFixture('sql', true);
    file = await writeServicesFile(fixture, 'events', 'CHECK_SERVICE_URL');
    await withAdmin((c) => c.query(`DROP ROLE IF EXISTS ${role}; CREATE ROLE ${role} LOGIN NOCREATEDB`));
  });
  afterAll(async () => {
    await state?.close();
    await withAdmin((c) => c.query(`DROP ROLE IF EXISTS ${role}`));
  });

  it('exits 2 and names the privilege when the scratch server refuses CREATE DATABASE', async () => {
    const scratch = ADMIN_URL.replace('postgres@', `${role}@`);
    const run = await check(['events', '--scratch-url', scratch], { SERVICES_FILE: file, LOG_LEVEL: 'silent' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`the role \`${role}\` lacks the CREATEDB privilege`);
    expect(run.stderr).toContain(`ALTER ROLE ${role} CREATEDB`);
    expect(run.stdout).toBe('');
  });

  it('exits 2 for an unknown service and a --record without DATABASE_URL, testing nothing', async () => {
    const unknown = await check(['nope', '--scratch-url', ADMIN_URL], { SERVICES_FILE: file });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('There is no service `nope`');
    const noDb = await check(['events', '--record', '--scratch-url', ADMIN_URL], { SERVICES_FILE: file });
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain('set `DATABASE_URL`');
  });

  it('--record keeps one row per migration file; a failing down is recorded as failed', async () => {
    // No service URL in the environment: --scratch-url stands in for it (a CI job has no production URL).
    const run = await check(['events', '--record', '--scratch-url', ADMIN_URL], {
      SERVICES_FILE: file,
      DATABASE_URL: state.db.url,
      LOG_LEVEL: 'silent',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Recorded 4 result(s).');
    const rows = await query<{ migration: string; passed: boolean; tool: string; detail: { remaining: string[] } }>(
      state.db.url,
      'SELECT migration, passed, tool, detail FROM down_checks ORDER BY migration',
    );
    expect(rows.map((r) => [r.migration, r.passed])).toEqual([
      ['001_create_events', true],
      ['002_add_event_reminders', true],
      ['003_add_users_profile_columns', true],
      ['004_add_audit_log', false],
    ]);
    expect(rows[3]!.detail.remaining).toEqual(['table public.audit_log']);
  });

  it('names an extension the scratch server lacks, reports the up that needs it and tests nothing after it', async () => {
    const ext = await checkFixture('sql', false);
    await writeFile(`${ext.directory}/004_add_search.up.sql`, 'CREATE EXTENSION mb_missing_extension;\n');
    await writeFile(`${ext.directory}/004_add_search.down.sql`, 'DROP EXTENSION mb_missing_extension;\n');
    await writeFile(`${ext.directory}/005_after.up.sql`, 'CREATE TABLE after_search (id int);\n');
    await writeFile(`${ext.directory}/005_after.down.sql`, 'DROP TABLE after_search;\n');
    const extFile = await writeServicesFile(ext, 'events', 'CHECK_SERVICE_URL');
    const run = await check(['events', '--json', '--scratch-url', ADMIN_URL], { SERVICES_FILE: extFile });
    expect(run.code).toBe(1);
    const rows = (JSON.parse(run.stdout) as { rows: Array<Row & { error: string | null }> }).rows;
    expect(rows.map((r) => [r.migration, r.up, r.down])).toEqual([
      ['001_create_events', 'ok', 'ok'],
      ['002_add_event_reminders', 'ok', 'ok'],
      ['003_add_users_profile_columns', 'ok', 'ok'],
      ['004_add_search', 'failed', 'not run'],
      ['005_after', 'not run', 'not run'],
    ]);
    expect(rows[3]!.error).toBe(
      'up: extension `mb_missing_extension` is missing on the scratch server: install it there, or point the scratch URL at a server that has it',
    );
    expect(rows[4]!.error).toBe('not run: the up of `004_add_search` failed');
  });

  it('--since tests only the migrations git says changed, applying the others', async () => {
    const dir = fixture.directory;
    await git('git', ['-C', dir, 'init', '-q']);
    await git('git', ['-C', dir, '-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'add', '.']);
    await git('git', ['-C', dir, '-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-qm', 'base']);
    await appendFile(`${dir}/002_add_event_reminders.down.sql`, '-- reviewed\n');
    const run = await check(['events', '--since', 'HEAD', '--json', '--scratch-url', ADMIN_URL], {
      SERVICES_FILE: file,
    });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { rows: Row[] };
    expect(report.rows.map((r) => r.migration)).toEqual(['002_add_event_reminders']);
    const bad = await check(['events', '--since', 'no-such-ref', '--scratch-url', ADMIN_URL], { SERVICES_FILE: file });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('`--since no-such-ref` could not be compared');
  });
});
