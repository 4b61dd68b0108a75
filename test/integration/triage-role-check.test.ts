/**
 * The start-up check of a service's triage role (SECURITY.md "Least privilege"): a role with
 * pg_read_all_data, pg_monitor and default_transaction_read_only passes; one that can write a
 * table is named with what it may do, as a warning that does not stop the start.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  triageRoleProblems,
  triageRoleReport,
  warnOnWritableTriageRoles,
} from '../../src/adapters/postgres/triage-role-check.js';
import type { ServiceConfig } from '../../src/config/services.js';
import { query } from '../support/e2e-helpers.js';
import { ADMIN_URL, createTestDatabase, type TestDatabase, withDatabase } from '../support/postgres.js';

const tag = randomBytes(3).toString('hex');
const READER = `mbt_triage_ro_${tag}`;
const WRITER = `mbt_triage_rw_${tag}`;
const asRole = (db: TestDatabase, role: string) =>
  withDatabase(ADMIN_URL.replace('//postgres@', `//${role}@`), db.name);

describe('triage role check', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('mb_rolecheck');
    await query(db.url, 'CREATE TABLE events (id int PRIMARY KEY)');
    await query(ADMIN_URL, `CREATE ROLE ${READER} LOGIN; GRANT pg_read_all_data, pg_monitor TO ${READER}`);
    await query(ADMIN_URL, `ALTER ROLE ${READER} SET default_transaction_read_only = on`);
    await query(ADMIN_URL, `CREATE ROLE ${WRITER} LOGIN`);
    await query(db.url, `GRANT INSERT, UPDATE ON events TO ${WRITER}`);
    await query(db.url, `REVOKE CREATE ON DATABASE ${db.name} FROM PUBLIC`);
  });
  afterAll(async () => {
    await query(db.url, `DROP OWNED BY ${READER}, ${WRITER}`).catch(() => undefined);
    await db?.drop();
    await query(ADMIN_URL, `DROP ROLE IF EXISTS ${READER}; DROP ROLE IF EXISTS ${WRITER}`);
  });

  it('passes a read-only role and names what a writing role may do', async () => {
    const reader = await triageRoleReport(asRole(db, READER));
    expect(reader).toMatchObject({ role: READER, readOnlyByDefault: true, superuser: false, writableTables: 0 });
    expect(triageRoleProblems(reader)).toEqual([]);
    const writer = await triageRoleReport(asRole(db, WRITER));
    expect(triageRoleProblems(writer)).toEqual([
      'may write 1 table(s)',
      'does not have default_transaction_read_only = on',
    ]);
    expect(triageRoleProblems(await triageRoleReport(db.url))).toContain('is a superuser');
  });

  it('warns at start-up, naming the service and the role, only for services with their own triage role', async () => {
    const warnings: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    const logger = { warn: (obj: Record<string, unknown>, msg: string) => warnings.push({ obj, msg }) };
    const service = (name: string, url: string, own: boolean) =>
      ({ name, triage: { database_url: url, ...(own ? { database_url_env: 'X' } : {}) } }) as unknown as ServiceConfig;
    const writable = await warnOnWritableTriageRoles(
      [
        service('reads-only', asRole(db, READER), true),
        service('writes', asRole(db, WRITER), true),
        service('same-role', db.url, false),
      ],
      logger as never,
    );
    expect(writable).toEqual(['writes']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain(`services.writes.triage.database_url_env: role ${WRITER} may write 1 table(s)`);
  });
});
