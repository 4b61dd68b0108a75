import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './measure.js';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own (initdb into a temporary directory, a free loopback
 * port, trust auth, no fsync) that the test can stop and start: an outage of one database
 * server without touching the machine's shared one.
 */
export interface OwnPostgres {
  port: number;
  /** Connection string of `database` on this cluster (it need not exist yet). */
  url(database: string): string;
  /** Stops the server at once (`pg_ctl stop -m immediate`): sessions are cut as in a crash. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory, waiting until it accepts sessions. */
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
}

/** `binary` from PATH, else from Debian's versioned directory (`/usr/lib/postgresql/<major>/bin`), newest first. */
function serverBinary(binary: string): string {
  const onPath = (process.env.PATH ?? '').split(':').find((d) => d && existsSync(path.join(d, binary)));
  if (onPath) return binary;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = majors.map((m) => path.join(root, m, 'bin', binary)).find((p) => existsSync(p));
  return found ?? binary;
}

/** Runs a PostgreSQL binary as the `postgres` user when we are root (initdb refuses root), else as we are. */
async function asPostgres(name: string, args: string[]): Promise<void> {
  const binary = serverBinary(name);
  const [cmd, argv] =
    process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
  try {
    await run(cmd, argv, { timeout: 60_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `${binary} ${args[0] ?? ''} failed: ${e.stderr || e.message}. PostgreSQL's server binaries (initdb, pg_ctl) must be on PATH: apt-get install postgresql`,
    );
  }
}

/**
 * Creates and starts a private cluster; `settings` are more server settings (`name=value`), e.g.
 * `shared_preload_libraries=pg_stat_statements`.
 * @throws naming the missing binary or the failing step (tests fail, never skip)
 */
export async function startOwnPostgres(settings: readonly string[] = []): Promise<OwnPostgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mb-own-pg-'));
  const data = path.join(dir, 'data');
  if (process.getuid?.() === 0) await chown(dir, await postgresUid(), await postgresGid());
  const port = await freePort();
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60${settings.map((s) => ` -c ${s}`).join('')}`;
  const start = () =>
    asPostgres('pg_ctl', ['-D', data, '-o', options, '-w', '-t', '30', '-l', path.join(dir, 'log'), 'start']);
  await start();
  return {
    port,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stop: () => asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    start,
    async destroy() {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function postgresUid(): Promise<number> {
  return Number((await run('id', ['-u', 'postgres'])).stdout.trim());
}

async function postgresGid(): Promise<number> {
  return Number((await run('id', ['-g', 'postgres'])).stdout.trim());
}
