import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../../src/shared/redact.js';

describe('redactSecrets', () => {
  it('removes passwords from connection strings, keyword pairs, Slack tokens and AWS key ids', () => {
    const text = [
      'connect postgres://app:s3cr%40t@db.internal:5432/tickets failed',
      'host=db password=hunter2 user=app',
      'token xoxb-1234-5678-abcdef and xapp-1-A0-123-abc',
      'key AKIAIOSFODNN7EXAMPLE',
    ].join('\n');
    const out = redactSecrets(text);
    for (const secret of ['s3cr%40t', 'hunter2', 'xoxb-1234', 'xapp-1-A0', 'IOSFODNN7EXAMPLE'])
      expect(out).not.toContain(secret);
    expect(out).toContain('postgres://app:***@db.internal:5432/tickets');
    expect(out).toContain('password=***');
  });

  it('leaves ordinary text alone', () => {
    expect(redactSecrets('Rollback of migration `007` initiated.')).toBe('Rollback of migration `007` initiated.');
  });
});
