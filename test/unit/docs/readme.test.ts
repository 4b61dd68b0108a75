import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');
const DOCS = [
  'README.md',
  'SECURITY.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Relative link targets of a Markdown file (no URLs, no in-page anchors), without their `#anchor`. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^(https?:|mailto:|#)/.test(t))
    .map((t) => t.split('#')[0]!);
}

describe('the README a newcomer finishes', () => {
  it('starts with the two commands, one that installs and starts the bot and one that runs the tests, and the scripts exist', () => {
    const readme = read('README.md');
    const firstBlock = /```bash\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = firstBlock
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => l.replace(/\s+#.*$/, '').trim());
    expect(commands).toEqual(['npm ci && npm start', 'npm test']);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBeTruthy();
    expect(scripts.test).toBeTruthy();
    expect(read('.ci/run')).toMatch(/\nnpm test\n/); // CI runs the README's test command
  });

  it('is short, shows the drill, and links the rest', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    expect(readme).toContain('](docs/drill.png)');
    for (const doc of ['docs/configuration.md', 'docs/architecture.md', 'docs/benchmarks.md', 'docs/incident-flow.md'])
      expect(readme).toContain(`](${doc})`);
    expect(read('docs/architecture.md')).toContain('```mermaid');
  });

  it.each(DOCS)('every relative link of %s points at a file that exists', (file) => {
    const dir = path.dirname(path.join(ROOT, file));
    const missing = relativeLinks(read(file)).filter((t) => !existsSync(path.resolve(dir, t)));
    expect(missing).toEqual([]);
  });

  it('keeps no test counts that go stale', () => {
    for (const file of DOCS) expect(read(file), file).not.toMatch(/\b\d{3,} tests (in|took)\b/);
  });
});
