/**
 * The image's entry point without Docker (no daemon on this machine): `npm run build` (tsc to
 * dist/), then `node dist/main/main.js --role worker` exactly as the Dockerfile's ENTRYPOINT runs it
 * (no tsx loader for the bot's own code). It serves /healthz, runs a real rollback, and exits 0
 * on SIGTERM within the grace period.
 */
import { execFile, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVERS, startHarness, type Harness } from '../support/bot-harness.js';
import { planCard, reachesState } from '../support/e2e-helpers.js';
import { freePort } from '../support/measure.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

async function jsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.js')).map((e) => path.join(e.parentPath, e.name));
}

describe('the compiled entry point the image runs (node dist/main/main.js)', () => {
  let h: Harness;
  beforeAll(async () => {
    await run('npm', ['run', 'build'], { cwd: ROOT, timeout: 120_000 });
    h = await startHarness({}, { role: 'app' });
  }, 180_000);
  afterAll(async () => {
    await h?.close();
  });

  it('builds without tsx in the bot code, serves /healthz, runs a rollback and exits 0 on SIGTERM', async () => {
    // The only tsx use left is the lazy loader for TypeScript migration files on Node < 22.18.
    const withTsx = [];
    for (const f of await jsFiles(path.join(ROOT, 'dist')))
      if (/from ['"]tsx|import\(['"]tsx/.test(await readFile(f, 'utf8'))) withTsx.push(path.relative(ROOT, f));
    expect(withTsx).toEqual(['dist/adapters/migrations/load-migration.js']);

    const httpPort = await freePort();
    const child = spawn(process.execPath, ['dist/main/main.js', '--role', 'worker'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...h.rawEnv, HTTP_PORT: String(httpPort), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.once('exit', (code) => resolve({ code, at: Date.now() })),
    );
    try {
      await expect
        .poll(
          async () =>
            await fetch(`http://127.0.0.1:${httpPort}/healthz`).then(
              (r) => r.status,
              () => 0,
            ),
          { timeout: 30_000, interval: 200 },
        )
        .toBe(200);
      const ready = (await (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).json()) as {
        checks: Record<string, string>;
      };
      expect(ready.checks).toEqual({ state_db: 'ok', redis: 'ok', workers: 'ok' });

      // The compiled worker takes the jobs: this test process runs only the Slack app.
      await h.command('rollback 007');
      const { incidentId } = await planCard(h);
      await h.press('incident_approve', incidentId, APPROVERS[0]);
      await h.press('incident_approve', incidentId, APPROVERS[1]);
      await reachesState(h, incidentId, 'resolved', 40_000);

      const signalled = Date.now();
      child.kill('SIGTERM');
      const { code, at } = await exited;
      expect(code, out).toBe(0);
      expect(at - signalled).toBeLessThan(25_000); // SHUTDOWN_GRACE_SECONDS
      expect(out).toContain('shut down cleanly');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
