import { describe, expect, it } from 'vitest';
import {
  assertValidSnapshotIdentifier,
  rdsIdentifierProblems,
  recoveryInstanceName,
  snapshotName,
} from '../../../src/domain/snapshots/snapshot-name.js';
import { AppError, isAppError } from '../../../src/shared/errors.js';
import { userText } from '../../support/words.js';

const AT = new Date('2026-11-21T03:12:07.950Z');

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('snapshotName', () => {
  it('is pre-rollback-<service>-<yyyymmdd-hhmmss> in UTC', () => {
    expect(snapshotName('tickets', AT)).toBe('pre-rollback-tickets-20261121-031207');
  });

  it('uses UTC whatever the local offset of the Date (midnight rollover)', () => {
    expect(snapshotName('svc', new Date('2026-12-31T23:59:59+00:00'))).toBe('pre-rollback-svc-20261231-235959');
    expect(snapshotName('svc', new Date('2027-01-01T01:00:00+02:00'))).toBe('pre-rollback-svc-20261231-230000');
  });

  it('lower-cases the service (RDS stores identifiers in lower case)', () => {
    expect(snapshotName('Tickets', AT)).toBe('pre-rollback-tickets-20261121-031207');
  });

  it('rejects a service name that would create two consecutive hyphens', () => {
    const err = thrown(() => snapshotName('svc-', AT));
    expect(err.code).toBe('snapshot_name_invalid');
    expect(userText(err)).toContain('pre-rollback-svc--20261121-031207');
  });
});

describe('assertValidSnapshotIdentifier', () => {
  it('accepts a valid name for both kinds', () => {
    expect(() => assertValidSnapshotIdentifier('pre-rollback-tickets-20261121-031207', 'instance')).not.toThrow();
    expect(() => assertValidSnapshotIdentifier('pre-rollback-tickets-20261121-031207', 'cluster')).not.toThrow();
  });

  it.each([
    ['', 'it is empty'],
    ['1abc', 'start with a letter'],
    ['-abc', 'start with a letter'],
    ['abc_def', 'only ASCII letters, digits and hyphens'],
    ['abc.def', 'only ASCII letters, digits and hyphens'],
    ['abc déf', 'only ASCII letters, digits and hyphens'],
    ['abc--def', 'two consecutive hyphens'],
    ['abc-', 'end with a hyphen'],
  ])('rejects %j (%s)', (id, problem) => {
    const err = thrown(() => assertValidSnapshotIdentifier(id, 'instance'));
    expect(err.code).toBe('snapshot_name_invalid');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(problem);
    expect(userText(err)).toContain(problem);
  });

  it('allows 255 characters for DB snapshots and 63 for cluster snapshots', () => {
    const at255 = `a${'b'.repeat(254)}`;
    expect(() => assertValidSnapshotIdentifier(at255, 'instance')).not.toThrow();
    expect(thrown(() => assertValidSnapshotIdentifier(`${at255}c`, 'instance')).message).toContain('at most 255');

    const at63 = `a${'b'.repeat(62)}`;
    expect(() => assertValidSnapshotIdentifier(at63, 'cluster')).not.toThrow();
    const err = thrown(() => assertValidSnapshotIdentifier(`${at63}c`, 'cluster'));
    expect(err.message).toContain('at most 63');
    expect(userText(err)).toContain('34 characters');
  });

  it('lists every broken rule at once', () => {
    expect(rdsIdentifierProblems('1a--b-', 255)).toHaveLength(3);
  });

  it('a 40-character service name fits a DB snapshot but not a cluster snapshot', () => {
    const name = snapshotName('a'.repeat(40), AT);
    expect(name.length).toBe(69);
    expect(() => assertValidSnapshotIdentifier(name, 'instance')).not.toThrow();
    expect(
      isAppError(
        thrown(() => assertValidSnapshotIdentifier(name, 'cluster')),
        'snapshot_name_invalid',
      ),
    ).toBe(true);
    expect(() => assertValidSnapshotIdentifier(snapshotName('a'.repeat(34), AT), 'cluster')).not.toThrow();
  });
});

describe('recoveryInstanceName', () => {
  it('is <source>-recovery-<yyyymmdd-hhmmss> in UTC, so two restores in one minute differ', () => {
    expect(recoveryInstanceName('tickettoken-production', AT)).toBe('tickettoken-production-recovery-20261121-031207');
    expect(recoveryInstanceName('tickettoken-production', new Date(AT.getTime() + 1000))).not.toBe(
      recoveryInstanceName('tickettoken-production', AT),
    );
  });

  it('never equals the source', () => {
    expect(recoveryInstanceName('db', AT)).not.toBe('db');
  });

  it('shortens a long source so the result fits 63 characters, without a trailing hyphen', () => {
    const source = `${'a'.repeat(39)}-bbbbbbbbbbbbbbbbbbbbbbb`; // 63 characters
    const name = recoveryInstanceName(source, AT);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toBe(`${'a'.repeat(38)}-recovery-20261121-031207`);
    expect(name).not.toContain('--');
    expect(rdsIdentifierProblems(name, 63)).toEqual([]);
  });

  it('rejects a source that cannot make a valid identifier', () => {
    const err = thrown(() => recoveryInstanceName('prod_db', AT));
    expect(err.code).toBe('restore_name_invalid');
    expect(userText(err)).toContain('prod_db');
    expect(thrown(() => recoveryInstanceName('9db', AT)).code).toBe('restore_name_invalid');
  });
});
