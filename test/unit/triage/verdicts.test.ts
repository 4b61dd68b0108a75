import { describe, expect, it } from 'vitest';
import { evaluateBlockingLocks, type BlockingPairRow } from '../../../src/domain/triage/checks/blocking-locks.js';
import { evaluateConnectionPressure } from '../../../src/domain/triage/checks/connection-pressure.js';
import { evaluateLocksNotGranted } from '../../../src/domain/triage/checks/locks-not-granted.js';
import {
  evaluateLongRunningTransactions,
  type LongTransactionRow,
} from '../../../src/domain/triage/checks/long-running-transactions.js';
import { evaluateMigrationHistory } from '../../../src/domain/triage/checks/migration-history.js';
import { evaluateTouchedObjects, type TouchedObjectState } from '../../../src/domain/triage/checks/touched-objects.js';
import { evaluateTrackingTableHealth } from '../../../src/domain/triage/checks/tracking-table-health.js';
import { knexLockProbe } from '../../../src/adapters/migrations/knex-migration-tool.js';
import { planWarnings } from '../../../src/domain/incident/use-cases/prepare-incident.js';
import type { TriageReport } from '../../../src/domain/triage/triage-report.js';
import type { CheckOutcome } from '../../../src/domain/triage/check.js';

/** A triage report holding one tracking_table_health result. */
const report = (outcome: CheckOutcome): TriageReport =>
  ({
    service: 'ticket-service',
    startedAt: '2026-12-01T00:00:00Z',
    durationMs: 1,
    checks: [
      { name: 'tracking_table_health', title: 'Tracking-table health', source: '004', durationMs: 1, ...outcome },
    ],
  }) as unknown as TriageReport;
import { advisoryLockProbe, dirtyVersionsProbe } from '../../../src/adapters/migrations/tracking-probes.js';
import { evaluateIntegrity } from '../../../src/domain/triage/checks/unvalidated-constraints-and-invalid-indexes.js';
import { MAX_QUERY_CHARS, safeText } from '../../../src/domain/triage/safe-value.js';

const columns = ['id', 'name', 'batch', 'migration_time'];
const history = [
  { id: 7, name: '007_add_security_tables.ts', batch: 4, migration_time: new Date('2026-11-20T10:00:00Z') },
  { id: 6, name: '006_add_ticket_state_machine.ts', batch: 3, migration_time: new Date('2026-11-19T10:00:00Z') },
  { id: 5, name: '005_add_idempotency_keys.ts', batch: 3, migration_time: new Date('2026-11-19T10:00:00Z') },
];

const knexGroup = { column: 'batch', word: 'batch', command: 'knex migrate:rollback' };

describe('evaluateMigrationHistory (runbook 004)', () => {
  it('is ok and marks the offender when it is alone in the latest batch', () => {
    const r = evaluateMigrationHistory(history, columns, '007_add_security_tables.ts', knexGroup);
    expect(r.verdict).toBe('ok');
    expect(r.summary).toContain('007_add_security_tables.ts is the latest migration (batch 4)');
    expect(r.columns).toEqual([...columns, 'offending']);
    expect(r.rows.map((x) => x.offending)).toEqual(['◀', '', '']);
    expect(r.rows[0]!.migration_time).toBe('2026-11-20T10:00:00.000Z');
  });
  it('asks for attention when the offender is not in the latest batch, or shares its batch', () => {
    expect(evaluateMigrationHistory(history, columns, '006_add_ticket_state_machine.ts', knexGroup).summary).toMatch(
      /batch 3 but the latest batch is 4/,
    );
    const shared = evaluateMigrationHistory(history.slice(1), columns, '006_add_ticket_state_machine.ts', knexGroup);
    expect(shared.verdict).toBe('attention');
    expect(shared.summary).toContain('005_add_idempotency_keys.ts');
  });
  it('asks for attention when the offender is missing or the table is empty', () => {
    expect(evaluateMigrationHistory(history, columns, '009_nope.ts').verdict).toBe('attention');
    expect(evaluateMigrationHistory([], columns).summary).toMatch(/empty/);
    expect(evaluateMigrationHistory(history, columns).verdict).toBe('ok');
  });
});

describe("evaluateTrackingTableHealth over the tools' probes (runbooks 004, 001)", () => {
  const lock = knexLockProbe({ schema: 'public', table: 'knex_migrations' });
  const dirty = dirtyVersionsProbe({ schema: 'public', name: 'schema_migrations' });
  const knexHealth = (lockRows: Array<Record<string, unknown>>, dirtyRows?: Array<Record<string, unknown>>) =>
    evaluateTrackingTableHealth([
      lock.evaluate(lockRows, 'knex_migrations_lock'),
      ...(dirtyRows ? [dirty.evaluate(dirtyRows, 'schema_migrations')] : []),
    ]);
  it('is ok with one free lock row', () => {
    const r = knexHealth([{ index: 1, is_locked: 0 }]);
    expect(r.verdict).toBe('ok');
    expect(r.summary).toBe('Lock table knex_migrations_lock is free (is_locked = 0).');
  });
  it('asks for attention on a stuck lock, extra or missing lock rows, and dirty rows', () => {
    expect(knexHealth([{ index: 1, is_locked: 1 }]).summary).toMatch(/is_locked = 1/);
    expect(
      knexHealth([
        { index: 1, is_locked: 0 },
        { index: 2, is_locked: 0 },
      ]).summary,
    ).toMatch(/2 rows/);
    expect(knexHealth([]).summary).toMatch(/no row/);
    const r = knexHealth([{ index: 1, is_locked: 0 }], [{ version: '20251101', dirty: true }]);
    expect(r.verdict).toBe('attention');
    expect(r.summary).toContain('1 dirty row (version 20251101)');
    expect(r.rows).toContainEqual({
      table: 'schema_migrations',
      row: 'version=20251101 dirty=true',
      finding: 'dirty = true',
    });
  });
  it("says when the tool's lock is held, so approvers are warned that the rollback would stop at it", () => {
    expect(knexHealth([{ index: 1, is_locked: 1 }]).toolLockHeld).toBe(true);
    expect(knexHealth([]).toolLockHeld).toBe(true); // no row: nobody can take the lock
    // A dirty row is worth the approvers' eyes, but it does not stop the rollback.
    expect(knexHealth([{ index: 1, is_locked: 0 }], [{ version: '20251101', dirty: true }]).toolLockHeld).toBe(false);
    expect(planWarnings(report(knexHealth([{ index: 1, is_locked: 1 }])))[0]).toMatch(
      /the rollback stops at it and changes nothing/,
    );
    expect(
      planWarnings(report(knexHealth([{ index: 1, is_locked: 0 }], [{ version: '20251101', dirty: true }])))[0],
    ).toMatch(/Check it before approving \(runbook 001 "Dirty Migration Recovery"\)/);
    expect(planWarnings(report(knexHealth([{ index: 1, is_locked: 0 }])))).toEqual([]);
  });
  it('says which lock table is absent', () => {
    expect(lock.whenAbsent).toBe('no lock table public.knex_migrations_lock');
    expect(evaluateTrackingTableHealth([{ problems: [], notes: [lock.whenAbsent!], rows: [] }])).toMatchObject({
      verdict: 'ok',
      summary: 'No lock table public.knex_migrations_lock.',
    });
  });
  it("names the holder of a tool's advisory lock", () => {
    const probe = advisoryLockProbe(7241865325823964n, "node-pg-migrate's advisory lock");
    expect(probe.sql('')).toContain('l.classid::bigint = 1686128');
    expect(evaluateTrackingTableHealth([probe.evaluate([], '')]).summary).toBe(
      "Node-pg-migrate's advisory lock is free.",
    );
    const held = evaluateTrackingTableHealth([
      probe.evaluate([{ pid: 4242, application_name: 'node-pg-migrate', state: 'active' }], ''),
    ]);
    expect(held).toMatchObject({
      verdict: 'attention',
      summary: "node-pg-migrate's advisory lock is held by pid 4242: a migration may be running.",
    });
  });
});

const longTx = (i: number, seconds: number): LongTransactionRow => ({
  pid: 1000 + i,
  user: 'app',
  application_name: 'api',
  state: 'idle in transaction',
  xact_seconds: seconds,
  wait_event_type: 'Client',
  wait_event: 'ClientRead',
  query: `UPDATE t SET x = ${'9'.repeat(400)}`,
  query_cut: true,
  total: '3',
});

describe('evaluateLongRunningTransactions (runbooks 001, 003)', () => {
  it('names the oldest transaction and cuts queries', () => {
    const r = evaluateLongRunningTransactions([longTx(1, 754), longTx(2, 40)], 30);
    expect(r.verdict).toBe('attention');
    expect(r.summary).toBe(
      '3 transactions open longer than 30s; oldest pid 1001 (app, idle in transaction) for 12m34s.',
    );
    expect(String(r.rows[0]!.query).length).toBeLessThanOrEqual(MAX_QUERY_CHARS);
    expect(r.rows[0]!.duration).toBe('12m34s');
  });
  it('is ok with no rows', () => {
    expect(evaluateLongRunningTransactions([], 30).verdict).toBe('ok');
  });
});

const pair = (blocked: number, blocking: number, extra: Partial<BlockingPairRow> = {}): BlockingPairRow => ({
  blocked_pid: blocked,
  blocked_user: 'app',
  blocked_seconds: 12,
  blocked_query: 'SELECT * FROM t',
  blocked_query_cut: false,
  wanted_mode: 'AccessShareLock',
  locktype: 'relation',
  relation: 't',
  blocking_pid: blocking,
  blocking_user: 'deploy',
  blocking_state: 'idle in transaction',
  blocking_query: 'LOCK TABLE t IN ACCESS EXCLUSIVE MODE',
  blocking_query_cut: false,
  blocking_mode: 'AccessExclusiveLock',
  ...extra,
});

describe('evaluateBlockingLocks (runbook 000)', () => {
  it('names the root blocker and its victims, through a chain', () => {
    const r = evaluateBlockingLocks([pair(11, 10), pair(12, 10), pair(13, 11, { blocking_state: 'active' })]);
    expect(r.verdict).toBe('attention');
    expect(r.summary).toBe(
      '3 blocked sessions; pid 10 [idle in transaction] blocks 11, 12 (AccessExclusiveLock on t).',
    );
    expect(r.rows[0]).toMatchObject({
      blocked_pid: 11,
      blocking_pid: 10,
      blocked_query: 'SELECT * FROM t',
      blocking_query: 'LOCK TABLE t IN ACCESS EXCLUSIVE MODE',
    });
  });
  it('says so when every blocker is itself waiting, and is ok with no pairs', () => {
    expect(evaluateBlockingLocks([pair(1, 2), pair(2, 1)]).summary).toMatch(/lock cycle/);
    expect(evaluateBlockingLocks([]).verdict).toBe('ok');
  });
});

describe('evaluateLocksNotGranted (runbook 001)', () => {
  it('counts waiting requests by target', () => {
    const r = evaluateLocksNotGranted([
      {
        target: 'public.t',
        locktype: 'relation',
        mode: 'AccessShareLock',
        waiting: 3,
        pids: '1, 2, 3',
        longest_seconds: 65,
      },
      {
        target: 'transactionid',
        locktype: 'transactionid',
        mode: 'ShareLock',
        waiting: 1,
        pids: '4',
        longest_seconds: 2,
      },
    ]);
    expect(r.summary).toBe('4 lock requests waiting on 2 targets; most on public.t (3 × AccessShareLock).');
    expect(r.rows[0]!.longest_wait).toBe('1m05s');
    expect(evaluateLocksNotGranted([]).verdict).toBe('ok');
  });
});

const found = (
  name: string,
  actions: TouchedObjectState['written']['actions'],
  f: Partial<NonNullable<TouchedObjectState['found']>> = {},
): TouchedObjectState => ({
  written: { schema: null, name, kind: 'table', actions },
  found: {
    oid: name.length,
    schema: 'public',
    name,
    relkind: 'r',
    reltuples: 0,
    exclusiveLock: null,
    totalBytes: 16384,
    exactRows: 0,
    note: null,
    ...f,
  },
});

describe('evaluateTouchedObjects (runbook 003)', () => {
  it('is ok with no offending migration, and when everything is present and empty', () => {
    expect(evaluateTouchedObjects([], []).summary).toMatch(/No offending migration/);
    const r = evaluateTouchedObjects([found('tickets', ['alter'])], [], '006');
    expect(r.verdict).toBe('ok');
    expect(r.rows[0]).toMatchObject({ relation: 'public.tickets', exists: true, exact_rows: 0, total_size: '16 kB' });
  });
  it('flags missing relations, ACCESS EXCLUSIVE holders, data the down destroys and unparsed SQL', () => {
    const r = evaluateTouchedObjects(
      [
        { written: { schema: null, name: 'gone', kind: 'table', actions: ['drop'] }, found: null },
        { written: { schema: null, name: 'new_one', kind: 'table', actions: ['create'] }, found: null },
        found('locked', ['alter'], { exclusiveLock: '4242 holds AccessExclusiveLock', exactRows: null }),
        found('full', ['drop'], { exactRows: 1234, reltuples: 1200 }),
      ],
      ['SQL 2: not parsed (syntax error)'],
      '007',
    );
    expect(r.verdict).toBe('attention');
    expect(r.summary).toContain('1 relation not found (gone)');
    expect(r.summary).toContain('locked: 4242 holds AccessExclusiveLock');
    expect(r.summary).toContain('drops or truncates 1 relation holding ~1234 rows');
    expect(r.summary).toContain('not fully analysed');
  });
});

describe('evaluateIntegrity (runbooks 001, 002)', () => {
  it('lists unvalidated constraints, invalid indexes and builds', () => {
    const r = evaluateIntegrity({
      constraints: [{ relation: 'deployment_logs', name: 'deployment_logs_project_id_fkey', contype: 'f' }],
      indexes: [{ relation: 'events', name: 'idx_events_search_new' }],
      builds: [
        {
          pid: 77,
          relation: 'events',
          name: 'idx_events_search_new',
          command: 'CREATE INDEX CONCURRENTLY',
          phase: 'building index: scanning table',
          blocks_done: '50',
          blocks_total: '200',
          tuples_done: '0',
          tuples_total: '0',
        },
      ],
    });
    expect(r.summary).toBe('1 unvalidated constraint, 1 invalid index (1 being built), 1 index build running.');
    expect(r.rows[0]).toMatchObject({ kind: 'unvalidated constraint', detail: 'FOREIGN KEY' });
    expect(r.rows[2]!.detail).toContain('25% of 200 blocks');
    expect(evaluateIntegrity({ constraints: [], indexes: [], builds: [] }).verdict).toBe('ok');
  });
});

describe('evaluateConnectionPressure (runbooks 002, 003)', () => {
  const row = (state: string, n: number) => ({
    state,
    this_database: n,
    all_databases: n,
    max_connections: 100,
    reserved: 3,
  });
  it('asks for attention from 80% of usable slots', () => {
    expect(evaluateConnectionPressure([row('active', 10), row('idle in transaction', 5)])).toMatchObject({
      verdict: 'ok',
      summary:
        '15 / 97 usable connections (15%; max_connections 100), 15 on this database; 5 sessions idle in transaction.',
    });
    expect(evaluateConnectionPressure([row('idle', 78)]).verdict).toBe('attention');
  });
});

describe('safeText', () => {
  it('redacts connection-string and SQL passwords and collapses whitespace', () => {
    expect(safeText("ALTER ROLE app PASSWORD 'hunter2'\n  -- postgres://u:pw@h/db")).toBe(
      "ALTER ROLE app PASSWORD '***' -- postgres://u:***@h/db",
    );
  });
});
