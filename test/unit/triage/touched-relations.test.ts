import { describe, expect, it } from 'vitest';
import { extractTouchedRelations, qualifiedName } from '../../../src/domain/triage/touched-relations.js';

/** Runbook 004 "Migration-Specific Rollbacks", verbatim. */
const DOWN_007 = `-- Down migration
DROP TABLE IF EXISTS failed_login_attempts;
DROP TABLE IF EXISTS user_spending_limits;
DROP TABLE IF EXISTS multisig_approvals;`;

const DOWN_006 = `-- Down migration
ALTER TABLE tickets DROP COLUMN IF EXISTS blockchain_sync_status;
ALTER TABLE tickets DROP COLUMN IF EXISTS sync_attempts;
ALTER TABLE tickets DROP COLUMN IF EXISTS last_sync_error;
DROP TABLE IF EXISTS ticket_state_transitions;
DROP TYPE IF EXISTS ticket_state;
DROP TYPE IF EXISTS revocation_reason;`;

const DOWN_004 = `-- Down migration (CAUTION: Removes security)
-- Only run if absolutely necessary
DROP POLICY IF EXISTS tickets_tenant_isolation ON tickets;
DROP POLICY IF EXISTS ticket_scans_tenant_isolation ON ticket_scans;`;

describe('extractTouchedRelations', () => {
  it('lists the three tables the 007 down drops (runbook 004)', async () => {
    const r = await extractTouchedRelations([DOWN_007]);
    expect(r.problems).toEqual([]);
    expect(r.relations).toEqual([
      { schema: null, name: 'failed_login_attempts', kind: 'table', actions: ['drop'] },
      { schema: null, name: 'user_spending_limits', kind: 'table', actions: ['drop'] },
      { schema: null, name: 'multisig_approvals', kind: 'table', actions: ['drop'] },
    ]);
  });

  it('lists tickets once (altered) and the dropped table for 006, ignoring types (runbook 004)', async () => {
    const r = await extractTouchedRelations([DOWN_006]);
    expect(r.problems).toEqual([]);
    expect(r.relations).toEqual([
      { schema: null, name: 'tickets', kind: 'table', actions: ['alter'] },
      { schema: null, name: 'ticket_state_transitions', kind: 'table', actions: ['drop'] },
    ]);
  });

  it('takes the table of DROP POLICY … ON (004 down)', async () => {
    const r = await extractTouchedRelations([DOWN_004]);
    expect(r.relations.map((x) => [x.name, x.actions])).toEqual([
      ['tickets', ['alter']],
      ['ticket_scans', ['alter']],
    ]);
  });

  it('keeps schema qualification and merges actions per relation across statements', async () => {
    const r = await extractTouchedRelations([
      'DELETE FROM app.knex_migrations_event WHERE name = $1',
      'DROP TABLE app.orders, public.order_items CASCADE',
      'ALTER TABLE app.orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES crm.customers (id) NOT VALID',
    ]);
    expect(r.relations.map((x) => [qualifiedName(x), x.kind, x.actions])).toEqual([
      ['app.knex_migrations_event', 'relation', ['write']],
      ['app.orders', 'table', ['drop', 'alter']],
      ['public.order_items', 'table', ['drop']],
      ['crm.customers', 'relation', ['reference']],
    ]);
  });

  it('handles indexes, views, sequences, truncate, renames and CTE names', async () => {
    const r = await extractTouchedRelations([
      `DROP INDEX CONCURRENTLY IF EXISTS public.idx_events_search_new;
       CREATE INDEX IF NOT EXISTS idx_events_tenant_id ON events(tenant_id);
       DROP VIEW IF EXISTS v_active; DROP MATERIALIZED VIEW mv_totals; DROP SEQUENCE seq_x;
       TRUNCATE audit_log;
       ALTER TABLE ONLY legacy RENAME TO legacy_old;
       WITH moved AS (DELETE FROM inbox RETURNING *) INSERT INTO archive SELECT * FROM moved;`,
    ]);
    expect(r.problems).toEqual([]);
    expect(r.relations.map((x) => `${qualifiedName(x)}:${x.kind}:${x.actions.join('+')}`)).toEqual([
      'public.idx_events_search_new:index:drop',
      'events:relation:alter',
      'idx_events_tenant_id:index:create',
      'v_active:view:drop',
      'mv_totals:materialized_view:drop',
      'seq_x:sequence:drop',
      'audit_log:table:truncate',
      'legacy:table:rename',
      'archive:relation:write',
      'inbox:relation:write',
    ]);
  });

  it('reads statements inside DO blocks (runbook 000 CHECK constraint pattern) and notes dynamic SQL', async () => {
    const r = await extractTouchedRelations([
      `DO $$ BEGIN
         ALTER TABLE events ADD CONSTRAINT events_age_check CHECK (age_restriction >= 0);
       EXCEPTION WHEN duplicate_object THEN NULL;
       END $$;`,
      `DO $$ BEGIN EXECUTE 'DROP TABLE ' || 'x'; END $$;`,
    ]);
    expect(r.relations).toEqual([{ schema: null, name: 'events', kind: 'table', actions: ['alter'] }]);
    expect(r.problems).toEqual([expect.stringContaining('dynamic SQL')]);
  });

  it('reports SQL that does not parse instead of throwing, and keeps what did parse', async () => {
    const r = await extractTouchedRelations(['DROP TABLE ;', 'DROP TABLE ok_table']);
    expect(r.problems).toEqual([expect.stringMatching(/^SQL 1: not parsed \(syntax error/)]);
    expect(r.relations.map((x) => x.name)).toEqual(['ok_table']);
  });

  it('returns nothing for comment-only SQL and quoted identifiers keep their case', async () => {
    expect(await extractTouchedRelations(['-- nothing to undo'])).toEqual({ relations: [], problems: [] });
    const r = await extractTouchedRelations(['DROP TABLE "Mixed Case"."Odd""Name"']);
    expect(r.relations).toEqual([{ schema: 'Mixed Case', name: 'Odd"Name', kind: 'table', actions: ['drop'] }]);
  });
});
