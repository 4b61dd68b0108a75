import { describe, expect, it } from 'vitest';
import { describeTriageError } from '../../../src/adapters/postgres/triage-error.js';

const timeouts = {
  statement_timeout: { text: '5s', ms: 5000 },
  lock_timeout: { text: '1s', ms: 1000 },
  connectTimeoutMs: 3000,
};
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('describeTriageError', () => {
  it('names timeouts in plain words', () => {
    expect(describeTriageError(pgError('57014', 'canceling statement due to statement timeout'), timeouts)).toBe(
      'timed out after 5s (statement_timeout)',
    );
    expect(describeTriageError(pgError('55P03', 'canceling statement due to lock timeout'), timeouts)).toMatch(
      /^could not get a lock within 1s \(lock_timeout\)/,
    );
    expect(describeTriageError(new Error('timeout expired'), timeouts)).toBe(
      'database unreachable: no connection within 3000ms (connect timeout)',
    );
  });
  it('maps socket errors and keeps SQLSTATEs it does not know', () => {
    expect(
      describeTriageError(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
          code: 'ECONNREFUSED',
          address: '127.0.0.1',
          port: 1,
        }),
        timeouts,
      ),
    ).toBe('database unreachable: connection refused at 127.0.0.1:1');
    expect(describeTriageError(pgError('XX000', 'internal error'), timeouts)).toBe('internal error (SQLSTATE XX000)');
  });
  it('never repeats a password', () => {
    const text = describeTriageError(
      new Error('getaddrinfo failed for postgres://triage:s3cret@db:5432/x password=s3cret'),
      timeouts,
    );
    expect(text).not.toContain('s3cret');
  });
});
