import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** Runs `npm start`'s entry (`node --import tsx src/main.ts`) with exactly `env`; returns exit code and stderr. */
async function start(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? '' };
  }
}

const BASE = {
  SLACK_BOT_TOKEN: 'xoxb-secret-bot-token',
  SLACK_SIGNING_SECRET: 'signing-secret-value',
  DATABASE_URL: 'postgres://postgres:pw-secret@127.0.0.1:5432/postgres',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

describe('start-up validation (the process refuses to start and says why)', () => {
  it('names every missing environment variable', async () => {
    const { code, stderr } = await start({ SLACK_BOT_TOKEN: 'xoxb-secret-bot-token' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/SLACK_SIGNING_SECRET/);
    expect(stderr).toMatch(/DATABASE_URL/);
    expect(stderr).toMatch(/REDIS_URL/);
    expect(stderr).not.toContain('secret-bot-token');
  });

  it('names the services.yaml file, key path and problem', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mb-start-'));
    const file = path.join(dir, 'services.yaml');
    await writeFile(file, 'services:\n  ticket-service:\n    database_url_env: TICKET_DATABASE_URL\n    migrations: { tool: flyway, directory: ./m }\n');
    const { code, stderr } = await start({ ...BASE, SERVICES_FILE: file, TICKET_DATABASE_URL: 'postgres://x/y' });
    expect(code).toBe(1);
    expect(stderr).toContain(file);
    expect(stderr).toMatch(/services\.ticket-service\.migrations\.tool/);
    expect(stderr).toMatch(/services\.ticket-service\.snapshot/);
    expect(stderr).not.toContain('pw-secret');
  });
});
