import { describe, expect, it } from 'vitest';
import { triageText } from '../../../src/surfaces/cli/format.js';

describe('CLI triage text', () => {
  it('sizes the title column to the longest title, and prints plain text', () => {
    const check = (title: string) => ({
      name: title.toLowerCase().replace(/ /g, '_'),
      title,
      source: '003',
      verdict: 'ok' as const,
      summary: 'fine',
      durationMs: 3,
      columns: [],
      rows: [],
    });
    const text = triageText({
      service: 'svc',
      startedAt: '2026-12-05T00:00:00Z',
      durationMs: 10,
      checks: [check('Locks'), check('Migration history')],
    });
    expect(text.split('\n').slice(1)).toEqual([
      '  ✓ Locks              fine  [3 ms]',
      '  ✓ Migration history  fine  [3 ms]',
    ]);
  });
});
