import type { AppError } from '../../../src/shared/errors.js';
import { describe, expect, it } from 'vitest';
import { migrationsToRevert, resolveMigration, type AppliedMigration } from '../../../src/domain/rollback/plan.js';
import { planStepFromStored } from '../../../src/adapters/postgres/incident-rows.js';
import { saying, userText } from '../../support/words.js';

const applied: AppliedMigration[] = [
  '001_create_tickets.ts',
  '002_add_ticket_scans.ts',
  '003_add_blockchain_tracking.ts',
  '004_add_rls_role_verification.ts',
  '005_add_idempotency_keys.ts',
  '006_add_ticket_state_machine.ts',
  '007_add_security_tables.ts',
].map((name, i) => ({ order: i + 1, name, group: `batch ${i < 5 ? 1 : 2}`, appliedAt: '2026-11-01T00:00:00.000Z' }));

describe('resolveMigration', () => {
  it('matches by version, by full name, and by name without extension', () => {
    expect(resolveMigration(applied, '007').name).toBe('007_add_security_tables.ts');
    expect(resolveMigration(applied, '7').name).toBe('007_add_security_tables.ts');
    expect(resolveMigration(applied, '007_add_security_tables.ts').name).toBe('007_add_security_tables.ts');
    expect(resolveMigration(applied, '007_add_security_tables').name).toBe('007_add_security_tables.ts');
  });

  it('refuses text that is not a migration name before any lookup', () => {
    for (const bad of ['007;', '../../etc', '007 x', "007'--", '.hidden', 'a/b']) {
      expect(() => resolveMigration(applied, bad), bad).toThrow(
        expect.objectContaining({ code: 'command_invalid_migration' }),
      );
    }
  });

  it('says when a migration exists as a file but is not applied', () => {
    expect(() => resolveMigration(applied, '008', ['008_add_refunds.ts'])).toThrow(
      expect.objectContaining({ code: 'command_migration_not_applied' }),
    );
  });

  it('lists the applied migrations the user could have meant for unknown input', () => {
    try {
      resolveMigration(applied, '999');
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'command_unknown_migration' });
      expect(userText(err as AppError)).toContain('`007_add_security_tables.ts` (batch 2)');
    }
  });

  it('reports ambiguity with the full names to choose from', () => {
    const twins = [...applied, { order: 8, name: '007_hotfix.ts', group: 'batch 3', appliedAt: null }];
    expect(() => resolveMigration(twins, '007')).toThrow(
      expect.objectContaining({
        code: 'command_ambiguous_migration',
        userMessage: saying('007_hotfix.ts'),
      }),
    );
  });
});

describe('migrationsToRevert', () => {
  it('reverts every migration applied after the target, then the target, newest first', () => {
    const target = resolveMigration(applied, '005');
    expect(migrationsToRevert(applied, target).map((m) => m.name)).toEqual([
      '007_add_security_tables.ts',
      '006_add_ticket_state_machine.ts',
      '005_add_idempotency_keys.ts',
    ]);
  });
});

describe('plans stored before the migration-tool registry', () => {
  it('reads a knex step with trackingId and batch as a tool-neutral step', () => {
    expect(
      planStepFromStored({
        migration: '007_add_security_tables.ts',
        trackingId: 7,
        batch: 2,
        transactional: true,
        sql: ['DROP TABLE x'],
      }),
    ).toEqual({
      migration: '007_add_security_tables.ts',
      order: 7,
      group: 'batch 2',
      transactional: true,
      sql: ['DROP TABLE x'],
    });
    const current = {
      migration: '0001_add_event_reminders',
      order: 1731000100000,
      transactional: false,
      sql: [],
      dirty: true,
    };
    expect(planStepFromStored(current)).toEqual({ ...current, group: undefined });
  });
});
