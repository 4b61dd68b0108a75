import { execFile, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { query } from '../support/bot-waits.js';
import { ADMIN_URL, dropDatabase } from '../support/postgres.js';

const run = promisify(execFile);

/** Runs `npm start`'s entry (`node --import tsx src/main/main.ts`) with exactly `env`; returns exit code and stderr. */
async function start(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, ['--import', 'tsx', 'src/main/main.ts'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 30_000,
    });
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

  it('starts no drill by itself in production or once any Slack variable is set: missing credentials are an error', async () => {
    const cases: Record<string, string>[] = [{ NODE_ENV: 'production' }, { SLACK_APP_TOKEN: 'xapp-1-secret' }];
    for (const env of cases) {
      const { code, stderr } = await start({ ...env, DRILL_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' });
      expect(code, JSON.stringify(env)).toBe(1);
      expect(stderr).not.toMatch(/DRILL/);
      expect(stderr).toMatch(/SLACK_BOT_TOKEN/);
      expect(stderr).not.toContain('xapp-1-secret');
    }
  });

  it('names the services.yaml file, key path and problem', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mb-start-'));
    const file = path.join(dir, 'services.yaml');
    await writeFile(
      file,
      'services:\n  ticket-service:\n    database_url_env: TICKET_DATABASE_URL\n    migrations: { tool: flyway, directory: ./m }\n',
    );
    const { code, stderr } = await start({ ...BASE, SERVICES_FILE: file, TICKET_DATABASE_URL: 'postgres://x/y' });
    expect(code).toBe(1);
    expect(stderr).toContain(file);
    expect(stderr).toMatch(/services\.ticket-service\.migrations\.tool/);
    expect(stderr).toMatch(/services\.ticket-service\.snapshot/);
    expect(stderr).not.toContain('pw-secret');
  });

  it('refuses the .env.example placeholders by name and says how to start a drill instead', async () => {
    const { code, stderr } = await start({
      ...BASE,
      SLACK_BOT_TOKEN: 'xoxb-your-bot-token',
      SLACK_SIGNING_SECRET: 'your-signing-secret',
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/SLACK_BOT_TOKEN: is still the placeholder from \.env\.example/);
    expect(stderr).toMatch(/SLACK_SIGNING_SECRET: is still the placeholder/);
    expect(stderr).toMatch(/leave SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET empty to start a drill/);
  });

  it('names an unreachable state database and Redis with the command that starts each, without a stack trace', async () => {
    const services = {
      SERVICES_FILE: path.resolve('drill/services.yaml'),
      DRILL_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
    };
    const pgDown = await start({
      ...BASE,
      ...services,
      DATABASE_URL: 'postgres://postgres:pw-secret@127.0.0.1:1/migrate_bot',
    });
    expect(pgDown.code).toBe(1);
    expect(pgDown.stderr).toMatch(
      /PostgreSQL for the bot's state database \(DATABASE_URL\) at 127\.0\.0\.1:1\/migrate_bot is not reachable \(ECONNREFUSED/,
    );
    expect(pgDown.stderr).toContain('pg_ctlcluster');
    expect(pgDown.stderr).not.toContain('pw-secret');
    expect(pgDown.stderr).not.toMatch(/\n\s+at /); // no stack trace
    // A state database that does not exist yet is created (then Redis is found down).
    const fresh = `mb_startup_${randomBytes(4).toString('hex')}`;
    const redisDown = await start({
      ...BASE,
      ...services,
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${fresh}`,
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    const created = await query<{ n: number }>(
      ADMIN_URL,
      'SELECT count(*)::int AS n FROM pg_database WHERE datname = $1',
      [fresh],
    );
    await dropDatabase(`postgres://postgres@127.0.0.1:5432/${fresh}`);
    expect(created).toEqual([{ n: 1 }]);
    expect(redisDown.code).toBe(1);
    expect(redisDown.stderr).toMatch(
      /Redis at 127\.0\.0\.1:1 \(REDIS_URL\) is not reachable .*redis-server --daemonize yes/,
    );
    expect(redisDown.stderr).not.toMatch(/\n\s+at /);
  });

  it('with no Slack credentials at all, npm start runs a drill: the console answers and SIGTERM exits 0', async () => {
    const tag = randomBytes(4).toString('hex');
    const dbs = [`mb_drill_state_${tag}`, `mb_drill_tickets_${tag}`].map(
      (d) => `postgres://postgres@127.0.0.1:5432/${d}`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/main.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        HTTP_PORT: '0',
        LOG_LEVEL: 'warn',
        DRILL_STATE_DATABASE_URL: dbs[0],
        DRILL_DATABASE_URL: dbs[1],
        DRILL_QUEUE_PREFIX: `mbtest-drill-${tag}`,
        DRILL_SNAPSHOT_DIR: path.join(os.tmpdir(), `mb-drill-${tag}`),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no drill within 30 s: ${err}`)), 30_000);
        child.stderr.on('data', () => {
          const m = /DRILL ready: open (http:\/\/localhost:\d+\/)/.exec(err);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      expect(err).toMatch(/no SLACK_\* variable set: starting a DRILL/);
      const page = await fetch(url.replace('localhost', '127.0.0.1'));
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('DRILL — migrate-bot on a local demo database');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const db of dbs) await dropDatabase(db);
    }
  });
});
