/**
 * The import rules of `.dependency-cruiser.cjs` (the folders are the architecture: no circles,
 * no domain import of an adapter or surface), run with dependency-cruiser's own command as
 * `npm test` runs it: they hold on src/, and they do refuse a tree that breaks them.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** The violations dependency-cruiser finds in `<dir>/src` with the project's rules. */
async function violations(dir: string): Promise<Array<{ rule: string; from: string; to: string }>> {
  const bin = path.join(ROOT, 'node_modules/.bin/depcruise');
  const args = ['src', '--config', path.join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json'];
  const out = await run(bin, args, { cwd: dir, maxBuffer: 64 * 1024 * 1024 }).catch((err: { stdout?: string }) => {
    if (!err.stdout) throw err;
    return { stdout: err.stdout }; // exit code = number of violations; the JSON is still there
  });
  const result = JSON.parse(out.stdout) as { summary: { violations: Violation[] } };
  return result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

describe('import rules (dependency-cruiser)', () => {
  it('src/ has no import circle and no domain → adapter/surface import', async () => {
    expect(await violations(ROOT)).toEqual([]);
  }, 60_000);

  it('refuses a deliberate circle and a domain → adapter import (test/fixtures/import-cycle)', async () => {
    const found = await violations(path.join(ROOT, 'test/fixtures/import-cycle'));
    expect(found).toContainEqual({
      rule: 'domain-is-pure',
      from: 'src/domain/plan-a.ts',
      to: 'src/adapters/pg-thing.ts',
    });
    expect(found.some((v) => v.rule === 'no-circular' && v.from === 'src/domain/plan-a.ts')).toBe(true);
  }, 60_000);
});
