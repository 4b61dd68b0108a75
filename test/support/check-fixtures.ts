/**
 * Migration folders for `migrate-bot check` and the computed plan, one per tool, copied into a
 * temporary directory so a test may add a migration with a broken down: the base fixture (all
 * downs correct, except drizzle's first migration, which has no rollback script) plus, with
 * `typo`, a migration whose up creates table `audit_log` and whose down drops `audit_logs`
 * (a typo: the table stays behind).
 */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DRIZZLE_DIR, NODE_PG_MIGRATE_DIR, SQL_DIR } from './tool-fixtures.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KNEX_DIR = path.join(ROOT, 'drill/migrations');

const AUDIT_UP = 'CREATE TABLE audit_log (id serial PRIMARY KEY, note text NOT NULL)';
/** The typo: `audit_logs`, so `audit_log` stays. */
const AUDIT_DOWN = 'DROP TABLE IF EXISTS audit_logs';

/** One tool's copy: `migrations:` for services.yaml and the names as the tool lists them. */
export interface CheckFixture {
  tool: 'knex' | 'node-pg-migrate' | 'sql' | 'drizzle';
  directory: string;
  migrations: Record<string, unknown>;
  /** Migration names, apply order. */
  names: string[];
  /** The added migration with the typo in its down, when `typo`. */
  typo: string | null;
  /** Migrations without a down (irreversible). */
  irreversible: string[];
}

/** Copies the `tool`'s base fixture to a new temporary folder, adding the typo migration when asked. */
export async function checkFixture(tool: CheckFixture['tool'], typo: boolean): Promise<CheckFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), `mb-check-${tool}-`));
  const add = (name: string, text: string) => writeFile(path.join(dir, name), text);
  if (tool === 'knex') {
    await cp(KNEX_DIR, dir, { recursive: true });
    if (typo)
      await add(
        '005_add_audit_log.js',
        `export async function up(knex) { await knex.raw('${AUDIT_UP}'); }\nexport async function down(knex) { await knex.raw('${AUDIT_DOWN}'); }\n`,
      );
    const names = [
      '001_create_tickets.js',
      '002_create_ticket_scans.js',
      '003_add_ticket_status_index.js',
      '004_add_price_check.js',
    ];
    return {
      tool,
      directory: dir,
      migrations: { tool, directory: dir, table: 'knex_migrations' },
      names: typo ? [...names, '005_add_audit_log.js'] : names,
      typo: typo ? '005_add_audit_log.js' : null,
      irreversible: [],
    };
  }
  if (tool === 'node-pg-migrate') {
    await cp(NODE_PG_MIGRATE_DIR, dir, { recursive: true });
    if (typo)
      await add(
        '1731000000400_add-audit-log.js',
        `export const up = (pgm) => { pgm.sql('${AUDIT_UP}'); };\nexport const down = (pgm) => { pgm.sql('${AUDIT_DOWN}'); };\n`,
      );
    const names = [
      '1731000000100_create-events',
      '1731000000200_add-event-reminders',
      '1731000000300_add-users-profile-columns',
    ];
    return {
      tool,
      directory: dir,
      migrations: { tool, directory: dir },
      names: typo ? [...names, '1731000000400_add-audit-log'] : names,
      typo: typo ? '1731000000400_add-audit-log' : null,
      irreversible: ['1731000000100_create-events'], // `down = false`
    };
  }
  if (tool === 'sql') {
    await cp(SQL_DIR, dir, { recursive: true });
    if (typo) {
      await add('004_add_audit_log.up.sql', `${AUDIT_UP};\n`);
      await add('004_add_audit_log.down.sql', `${AUDIT_DOWN};\n`);
    }
    const names = ['001_create_events', '002_add_event_reminders', '003_add_users_profile_columns'];
    return {
      tool,
      directory: dir,
      migrations: { tool, directory: dir },
      names: typo ? [...names, '004_add_audit_log'] : names,
      typo: typo ? '004_add_audit_log' : null,
      irreversible: [],
    };
  }
  await cp(DRIZZLE_DIR, dir, { recursive: true });
  if (typo) {
    await add('0003_add_audit_log.sql', `${AUDIT_UP};\n`);
    await add('rollback/0003_rollback_audit_log.sql', `${AUDIT_DOWN};\n`);
    const journalFile = path.join(dir, 'meta/_journal.json');
    const journal = JSON.parse(await readFile(journalFile, 'utf8')) as { entries: unknown[] };
    journal.entries.push({ idx: 3, version: '7', when: 1731000300000, tag: '0003_add_audit_log', breakpoints: true });
    await writeFile(journalFile, JSON.stringify(journal, null, 2));
  }
  const names = ['0000_create_events', '0001_add_event_reminders', '0002_add_users_profile_columns'];
  return {
    tool,
    directory: dir,
    migrations: { tool, directory: dir },
    names: typo ? [...names, '0003_add_audit_log'] : names,
    typo: typo ? '0003_add_audit_log' : null,
    irreversible: ['0000_create_events'],
  };
}

/** services.yaml for one service `name` on `urlEnv`, with `fixture`'s migrations, written next to it. */
export async function writeServicesFile(fixture: CheckFixture, name: string, urlEnv: string): Promise<string> {
  const file = path.join(fixture.directory, '..', `${path.basename(fixture.directory)}-services.yaml`);
  const yaml = [
    'services:',
    `  ${name}:`,
    `    database_url_env: ${urlEnv}`,
    '    migrations:',
    ...Object.entries(fixture.migrations).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`),
    '    snapshot:',
    '      provider: pg_dump',
    '    access:',
    '      requesters: anyone',
    '    approvals:',
    '      required: 1',
    '      approvers: [U0CHECK01, U0CHECK02]',
    '',
  ].join('\n');
  await writeFile(file, yaml);
  return file;
}
