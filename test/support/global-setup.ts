import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { ADMIN_URL, TEMPLATE_PREFIX } from './pg-admin.js';

/** Fails the whole run, with the command that fixes it, when PostgreSQL or Redis is down. Never skips. */
async function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 2000 }, () => {
      s.end();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** True while process `pid` of this machine runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Drops the template databases whose names start with `prefix`: this run's at the end, or at the
 * start those of earlier runs whose vitest process is gone (a run killed before its teardown). A
 * run still going on this machine keeps its own: its name carries its process id.
 */
async function dropTemplates(prefix: string, onlyOfDeadRuns = false): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
      [prefix],
    );
    const runOf = (name: string): number => Number(/^mbtpl_p(\d+)r/.exec(name)?.[1] ?? Number.NaN);
    for (const { datname } of rows.filter((r) => !onlyOfDeadRuns || !alive(runOf(r.datname))))
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/**
 * Checks the services, then gives the run an id for its template databases (migrated once,
 * cloned per test: test/support/postgres.ts) and drops them when the run ends.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const missing: string[] = [];
  if (!(await reachable('127.0.0.1', 5432))) {
    missing.push(
      'PostgreSQL on 127.0.0.1:5432 (start: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)',
    );
  }
  if (!(await reachable('127.0.0.1', 6379))) {
    missing.push(
      'Redis on 127.0.0.1:6379 (start: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no)',
    );
  }
  if (missing.length > 0) {
    throw new Error(`The test suite needs real services that are not running:\n - ${missing.join('\n - ')}`);
  }
  await dropTemplates(TEMPLATE_PREFIX, true);
  const run = `p${process.pid}r${randomBytes(2).toString('hex')}`;
  project.provide('templateRun', run);
  return () => dropTemplates(`${TEMPLATE_PREFIX}${run}_`);
}
