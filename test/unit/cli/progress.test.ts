import { describe, expect, it } from 'vitest';
import { createProgress } from '../../../src/surfaces/cli/progress.js';

describe('CLI progress', () => {
  it('prints names without Markdown backticks, in a pipe and on a TTY', () => {
    for (const isTTY of [false, true]) {
      let out = '';
      const p = createProgress({ stream: { isTTY, write: (t: string) => (out += t) } });
      p.line('03:12:07 down migration of `007_add_security_tables.ts` done in 412 ms');
      p.status('Snapshot `pre-rollback-x` (pg_dump) creating…');
      p.done();
      expect(out).toContain('down migration of 007_add_security_tables.ts done in 412 ms');
      expect(out).toContain('Snapshot pre-rollback-x (pg_dump) creating…');
      expect(out).not.toContain('`');
    }
  });
});
