/**
 * The pure parts of the plan's schema check: how two schemas differ object by object, why the
 * computed plan is offered, whether a down was tested on this very file, the lines a card shows,
 * and that what a database named reaches Slack escaped.
 */
import { describe, expect, it } from 'vitest';
import { schemaCheckBlocks, computedPlanButton } from '../../../src/adapters/slack/render/schema-check-blocks.js';
import { stepTestedness } from '../../../src/domain/rollback/down-check-record.js';
import type { PlanStep } from '../../../src/domain/rollback/plan.js';
import { planDigest } from '../../../src/domain/rollback/plan-digest.js';
import {
  computedPlanReason,
  type PlanSchemaCheck,
  unrunSchemaCheck,
} from '../../../src/domain/rollback/plan-schema-check.js';
import { schemaCheckLines } from '../../../src/domain/rollback/plan-schema-words.js';
import { objectOfLine, schemaDifference } from '../../../src/domain/rollback/schema-difference.js';
import { wordsPlain } from '../../../src/shared/words.js';

const TARGET = [
  'table public.events (r)',
  'column public.events.id bigint not null',
  'column public.events.name text',
  'index CREATE UNIQUE INDEX events_pkey ON public.events USING btree (id)',
  'constraint public.events events_pkey PRIMARY KEY (id)',
];

describe('schemaDifference', () => {
  it('names a table left behind once, not its columns, index and key', () => {
    const reached = [
      ...TARGET,
      'table public.audit_log (r)',
      'column public.audit_log.id integer not null',
      'index CREATE UNIQUE INDEX audit_log_pkey ON public.audit_log USING btree (id)',
      'constraint public.audit_log audit_log_pkey PRIMARY KEY (id)',
    ];
    expect(schemaDifference(TARGET, reached)).toEqual({
      remaining: ['table public.audit_log'],
      missing: [],
      changed: [],
    });
  });

  it('tells a missing index, a remaining column and a changed column apart', () => {
    const reached = [
      'table public.events (r)',
      'column public.events.id bigint not null',
      'column public.events.name varchar(20)',
      'column public.events.legacy_flag boolean',
      'constraint public.events events_pkey PRIMARY KEY (id)',
    ];
    expect(schemaDifference(TARGET, reached)).toEqual({
      remaining: ['column public.events.legacy_flag'],
      missing: ['index events_pkey on public.events'],
      changed: ['column public.events.name'],
    });
  });

  it('names each kind of object', () => {
    expect(objectOfLine('function public.f(a integer) 0123456789abcdef0123456789abcdef')).toBe(
      'function public.f(a integer)',
    );
    expect(objectOfLine('policy public.t tenant r permissive using (x) check ()')).toBe('policy tenant on public.t');
    expect(objectOfLine('table public.v (v)')).toBe('view public.v');
    expect(objectOfLine('type public.state enum (a, b)')).toBe('type public.state');
  });
});

const step = (migration: string, extra: Partial<PlanStep> = {}): PlanStep => ({
  migration,
  order: Number(migration.slice(0, 3)),
  transactional: true,
  sql: ['DROP TABLE x'],
  checksum: `${migration}-sum`,
  ...extra,
});

const computedStep: PlanStep = {
  migration: 'computed revert to 006_x',
  order: 6,
  transactional: true,
  sql: ['drop table "public"."audit_log";'],
  computed: { reverts: [{ name: '007_y', order: 7 }], target: { name: '006_x', order: 6 } },
};

const check = (patch: Partial<PlanSchemaCheck> = {}): PlanSchemaCheck => ({
  checkedAt: '2026-12-05T03:00:00.000Z',
  ms: 900,
  target: '006_x',
  downs: { state: 'restore_target', difference: { remaining: [], missing: [], changed: [] }, error: null },
  live: {
    matches: 'applied',
    fromApplied: { remaining: [], missing: [], changed: [] },
    fromTarget: { remaining: ['table public.audit_log'], missing: [], changed: [] },
  },
  computed: { step: computedStep, diffMs: 300, unexpressed: [], error: null },
  tested: [{ migration: '007_y', state: 'untested', checkedAt: null }],
  error: null,
  ...patch,
});

describe('computedPlanReason', () => {
  it('offers the computed plan only when the files cannot serve, naming the first reason', () => {
    expect(computedPlanReason([step('007_y')], check())).toBeNull();
    expect(
      computedPlanReason([step('007_y', { irreversible: 'no down' }), step('006_x', { dirty: true })], check()),
    ).toEqual({
      kind: 'irreversible',
      migration: '007_y',
    });
    expect(computedPlanReason([step('007_y', { dirty: true })], check())).toEqual({
      kind: 'dirty',
      migration: '007_y',
    });
    expect(computedPlanReason([step('007_y', { modified: true })], check())).toEqual({
      kind: 'modified',
      migration: '007_y',
    });
    const differ = check({
      downs: {
        state: 'differ',
        difference: { remaining: ['table public.audit_log'], missing: [], changed: [] },
        error: null,
      },
    });
    expect(computedPlanReason([step('007_y')], differ)).toEqual({ kind: 'downs_differ' });
    // Nothing to offer without a computed step, or when the plan already is the computed one.
    expect(
      computedPlanReason([step('007_y')], {
        ...differ,
        computed: { step: null, diffMs: 0, unexpressed: ['x'], error: null },
      }),
    ).toBeNull();
    expect(computedPlanReason([computedStep], differ)).toBeNull();
  });
});

describe('stepTestedness', () => {
  it('vouches only for the very file that was checked', () => {
    const records = [
      {
        service: 's',
        migration: '007_y',
        checksum: '007_y-sum',
        tool: 'knex',
        passed: true,
        detail: {},
        checkedAt: '2026-12-01T10:00:00.000Z',
      },
      {
        service: 's',
        migration: '006_x',
        checksum: 'older',
        tool: 'knex',
        passed: true,
        detail: {},
        checkedAt: '2026-11-20T10:00:00.000Z',
      },
      {
        service: 's',
        migration: '005_w',
        checksum: '005_w-sum',
        tool: 'knex',
        passed: false,
        detail: {},
        checkedAt: '2026-12-02T10:00:00.000Z',
      },
    ];
    expect(
      stepTestedness([step('007_y'), step('006_x'), step('005_w'), step('004_v')], records).map((t) => t.state),
    ).toEqual(['passed', 'changed', 'failed', 'untested']);
  });
});

describe('schemaCheckLines', () => {
  const plain = (plan: PlanStep[], c: PlanSchemaCheck) =>
    schemaCheckLines(plan, c).map((l) => `${l.tone}: ${wordsPlain(l.words)}`);

  it('says the downs reach the target, and which downs were never tested', () => {
    expect(plain([step('007_y')], check())).toEqual([
      'ok: The downs bring the schema to the target (`006_x`), tried on a fresh build in 0.9 s.',
      'info: down of `007_y` never tested by migrate-bot check',
    ]);
  });

  it('says what the downs leave and offers the computed plan', () => {
    const lines = plain(
      [step('007_y')],
      check({
        downs: {
          state: 'differ',
          difference: { remaining: ['table public.audit_log'], missing: ['index i on public.t'], changed: [] },
          error: null,
        },
      }),
    );
    expect(lines[0]).toBe(
      'bad: After the downs, `table public.audit_log` would remain; `index i on public.t` would be missing (a down does not undo what its up did).',
    );
    expect(lines[1]).toBe(
      'info: A computed plan is available because the downs do not bring the schema to the target: 1 statement(s) from the live schema to `006_x` (migra, proved on a schema-only copy), then the tracking table moved to `006_x`.',
    );
  });

  it('gives a dirty version its evidence', () => {
    const dirty = [step('007_y', { dirty: true })];
    expect(
      plain(
        dirty,
        check({
          live: { matches: 'target', fromApplied: null, fromTarget: { remaining: [], missing: [], changed: [] } },
        }),
      )[1],
    ).toContain('matches the build before it (`006_x`): forcing the version back is a tracking-table change only');
    expect(
      plain(
        dirty,
        check({
          live: {
            matches: 'neither',
            fromApplied: null,
            fromTarget: { remaining: ['index events_name_idx on public.events'], missing: [], changed: [] },
          },
        }),
      )[1],
    ).toBe(
      'warn: `007_y` is dirty, and the live schema matches neither build: against `006_x` it has `index events_name_idx on public.events`.',
    );
  });

  it('says why there is no computed plan, and when the check could not run', () => {
    const lines = plain(
      [step('007_y', { irreversible: 'no down' })],
      check({
        downs: { state: 'not_run', difference: null, error: null },
        computed: { step: null, diffMs: 0, unexpressed: ['function public.f()'], error: null },
      }),
    );
    expect(lines).toContain('warn: No computed plan: a diff cannot bring `function public.f()` to the target.');
    expect(
      plain(
        [step('007_y')],
        unrunSchemaCheck({ checkedAt: 'x', target: null, tested: [] }, 'could not create the scratch database'),
      ),
    ).toEqual(['warn: The plan could not be checked against the schemas: could not create the scratch database']);
  });
});

describe('the card', () => {
  it('escapes what a database named, and offers the button only when a reason holds', () => {
    const evil = check({
      downs: {
        state: 'differ',
        difference: { remaining: ['table public.<!channel>'], missing: [], changed: [] },
        error: null,
      },
    });
    const text = JSON.stringify(
      schemaCheckBlocks({ plan: [step('007_y')], schemaCheck: evil, state: 'awaiting_approval' }),
    );
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('&lt;!channel&gt;');
    expect(computedPlanButton({ id: 'i', plan: [step('007_y')], schemaCheck: evil })?.action_id).toBe(
      'incident_use_computed',
    );
    expect(computedPlanButton({ id: 'i', plan: [step('007_y')], schemaCheck: check() })).toBeNull();
    expect(
      JSON.stringify(schemaCheckBlocks({ plan: [step('007_y')], schemaCheck: null, state: 'snapshotting' })),
    ).toContain('Checking the plan');
    expect(schemaCheckBlocks({ plan: [step('007_y')], schemaCheck: null, state: 'resolved' })).toEqual([]);
  });

  it('binds approvals to what a computed step reverts', () => {
    const other = { ...computedStep, computed: { ...computedStep.computed!, reverts: [{ name: '007_z', order: 7 }] } };
    expect(planDigest([computedStep], null, 'snap')).not.toBe(planDigest([other], null, 'snap'));
  });
});
