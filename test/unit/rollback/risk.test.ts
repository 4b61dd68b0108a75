import { describe, expect, it } from 'vitest';
import {
  blockingIrreversible,
  classifySql,
  classifyStep,
  isDestructive,
  type RiskFinding,
} from '../../../src/domain/rollback/risk.js';

const brief = (fs: RiskFinding[]) => fs.map((f) => `${f.class}: ${f.what}`);

describe('risk classification (libpg-query)', () => {
  // Each row: SQL as the runbooks write it, and the findings it must give (class: words).
  const table: Array<[string, string[], string[]]> = [
    [
      'runbook 004 007 down: DROP TABLE IF EXISTS',
      ['DROP TABLE IF EXISTS failed_login_attempts', 'DROP TABLE IF EXISTS user_spending_limits'],
      ['data_loss: drops table failed_login_attempts', 'data_loss: drops table user_spending_limits'],
    ],
    [
      'runbook 004 006 down: state machine columns and types',
      [
        'ALTER TABLE tickets DROP COLUMN IF EXISTS blockchain_sync_status',
        'DROP TABLE IF EXISTS ticket_state_transitions',
        'DROP TYPE IF EXISTS ticket_state',
      ],
      [
        'data_loss: drops column tickets.blockchain_sync_status',
        'data_loss: drops table ticket_state_transitions',
        'data_loss: drops type ticket_state',
      ],
    ],
    [
      'runbook 004 004 down: RLS policies (CAUTION: removes security)',
      [
        'DROP POLICY IF EXISTS tickets_tenant_isolation ON tickets',
        'DROP POLICY IF EXISTS ticket_scans_tenant_isolation ON public.ticket_scans',
      ],
      [
        'security: drops policy `tickets_tenant_isolation` on tickets: removes row-level security',
        'security: drops policy `ticket_scans_tenant_isolation` on public.ticket_scans: removes row-level security',
      ],
    ],
    [
      'runbook 000: a down that re-adds a CHECK constraint',
      [
        'ALTER TABLE events ADD CONSTRAINT events_age_restriction_check CHECK (age_restriction >= 0 AND age_restriction <= 21)',
      ],
      [
        'constraint: adds CHECK `events_age_restriction_check` on events',
        'blocking: holds an ACCESS EXCLUSIVE lock on events while it scans the table (ALTER TABLE)',
      ],
    ],
    [
      'runbook 000: NOT NULL and FOREIGN KEY re-adds',
      [
        'ALTER TABLE events ALTER COLUMN venue_id SET NOT NULL',
        'ALTER TABLE events ADD CONSTRAINT events_venue_fk FOREIGN KEY (venue_id) REFERENCES venues(id)',
      ],
      [
        'constraint: sets events.venue_id NOT NULL',
        'blocking: holds an ACCESS EXCLUSIVE lock on events while it scans the table (ALTER TABLE)',
        'constraint: adds FOREIGN KEY `events_venue_fk` on events (venue_id)',
        'blocking: holds an ACCESS EXCLUSIVE lock on events while it scans the table (ALTER TABLE)',
      ],
    ],
    [
      'runbook 002 rollback script: DROP COLUMN and DROP NOT NULL',
      ['ALTER TABLE users DROP COLUMN old_field', 'ALTER TABLE users ALTER COLUMN new_field DROP NOT NULL'],
      ['data_loss: drops column users.old_field'],
    ],
    ['harmless: DROP INDEX CONCURRENTLY', ['DROP INDEX CONCURRENTLY IF EXISTS events_starts_at_idx'], []],
    [
      'index build without CONCURRENTLY',
      ['CREATE INDEX events_name_idx ON events (name)'],
      ['blocking: builds index events_name_idx on events without CONCURRENTLY: writes wait until it is built'],
    ],
    [
      'TRUNCATE and DELETE without WHERE',
      [
        'TRUNCATE audit_log',
        'DELETE FROM sessions',
        "DELETE FROM sessions WHERE created_at < now() - interval '1 day'",
      ],
      ['data_loss: empties table audit_log (TRUNCATE)', 'data_loss: deletes every row of sessions (no WHERE)'],
    ],
    [
      'narrowing type change',
      ['ALTER TABLE events ALTER COLUMN code TYPE varchar(8)'],
      [
        'data_loss: changes events.code to varchar(8): longer values fail or are cut',
        'blocking: rewrites events (ALTER COLUMN code TYPE) under an ACCESS EXCLUSIVE lock',
      ],
    ],
    [
      'security statements',
      [
        'ALTER TABLE tickets DISABLE ROW LEVEL SECURITY',
        'REVOKE SELECT ON tickets FROM reporting',
        'GRANT ALL ON tickets TO app',
        'DROP ROLE legacy_app',
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'select 1'",
      ],
      [
        'security: removes row-level security on tickets (DISABLE ROW LEVEL SECURITY)',
        'security: revokes privileges on tickets from reporting',
        'security: grants privileges on tickets to app',
        'security: drops role legacy_app',
        "security: creates SECURITY DEFINER function f: it runs with its owner's rights",
      ],
    ],
    [
      'a DROP inside a DO block',
      ['DO $$ BEGIN DROP TABLE IF EXISTS old_events; END $$'],
      ['data_loss: drops table old_events'],
    ],
    [
      'unparseable SQL is unknown, never safe',
      ['DROPP TABLE events'],
      ['unknown: SQL 1: not parsed (syntax error at or near "DROPP")'],
    ],
    [
      'dynamic SQL is unknown',
      ["DO $$ BEGIN EXECUTE 'DROP TABLE ' || 'x'; END $$"],
      ['unknown: SQL 1: DO block runs dynamic SQL (EXECUTE) that cannot be analysed'],
    ],
  ];

  it.each(table)('%s', async (_name, sql, expected) => {
    expect(brief(await classifySql(sql, 'down'))).toEqual(expected);
  });

  it('keeps the CHECK expression as written and the foreign key target, for the violation count', async () => {
    const [check] = await classifySql(
      ["ALTER TABLE events ADD CONSTRAINT c CHECK (status IN ('a', 'b (x)') AND n > 0)"],
      'down',
    );
    expect(check!.target).toMatchObject({
      name: 'events',
      measure: 'violations',
      constraint: { type: 'check', name: 'c', expression: "status IN ('a', 'b (x)') AND n > 0" },
    });
    const [fk] = await classifySql(
      ['ALTER TABLE s.events ADD FOREIGN KEY (venue_id, org) REFERENCES s.venues (id, org)'],
      'down',
    );
    expect(fk!.target).toMatchObject({
      schema: 's',
      name: 'events',
      constraint: {
        type: 'foreign_key',
        columns: ['venue_id', 'org'],
        references: { schema: 's', table: 'venues', columns: ['id', 'org'] },
      },
    });
  });

  it('a NOT VALID constraint checks no existing rows, so it is no re-add risk', async () => {
    expect(
      (await classifySql(['ALTER TABLE events ADD CONSTRAINT c CHECK (n > 0) NOT VALID'], 'down')).map((f) => f.class),
    ).toEqual(['blocking']);
  });

  it('an up that dropped a column makes the step irreversible for that data; a step with no down blocks the rollback', async () => {
    const lossy = await classifyStep({
      migration: '008_drop_promo.ts',
      order: 8,
      transactional: true,
      sql: ['ALTER TABLE events ADD COLUMN promo_code text'],
      upSql: ['ALTER TABLE events DROP COLUMN promo_code'],
    });
    expect(brief(lossy.findings)).toContain(
      'irreversible: its up drops column events.promo_code; the down cannot bring that data back — only the snapshot or a backup from before the migration can',
    );
    const risk = {
      steps: [
        lossy,
        await classifyStep({
          migration: '009_x.ts',
          order: 9,
          transactional: true,
          sql: [],
          irreversible: '`009_x.ts` has no down migration',
        }),
      ],
    };
    expect(isDestructive(risk)).toBe(true);
    expect(blockingIrreversible(risk).map((f) => f.what)).toEqual(['`009_x.ts` has no down migration']);
  });

  it('a harmless plan is neither destructive nor irreversible; a step whose SQL was not captured is unknown', async () => {
    const harmless = {
      steps: [
        await classifyStep({
          migration: '010_idx.ts',
          order: 10,
          transactional: false,
          sql: ['DROP INDEX CONCURRENTLY idx'],
        }),
      ],
    };
    expect(isDestructive(harmless)).toBe(false);
    expect(harmless.steps[0]!.findings).toEqual([]);
    const uncaptured = await classifyStep({ migration: '011_x.ts', order: 11, transactional: true, sql: [] });
    expect(uncaptured.findings.map((f) => f.class)).toEqual(['unknown']);
  });
});
