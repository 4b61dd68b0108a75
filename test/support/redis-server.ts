import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './measure.js';

/** A redis-server of the test's own, on a free loopback port, that the test can stop and start (a Redis outage). */
export interface OwnRedis {
  url: string;
  port: number;
  /** Kills the server (no persistence: its data is gone, as with this machine's Redis). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

/**
 * Waits until a Redis server (or sentinel) on loopback `port` answers PING.
 * @throws when it has not answered within 5 s
 */
export async function redisAnswers(port: number): Promise<void> {
  const probe = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined); // refused while the server starts: retried below
  try {
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`redis-server on port ${port} did not answer within 5 s`);
  } finally {
    probe.disconnect();
  }
}

/**
 * Starts `redis-server` (Debian's package, on this machine's PATH) on a free port.
 * @throws naming the missing binary when redis-server cannot be started (tests fail, never skip)
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const spawned = child;
    await new Promise<void>((resolve, reject) => {
      spawned.once('error', (err) =>
        reject(
          new Error(
            `redis-server could not be started (${err.message}); install it with: apt-get install redis-server`,
          ),
        ),
      );
      spawned.once('spawn', () => resolve());
    });
    await redisAnswers(port);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    async stop() {
      const c = child as ChildProcess | null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return; // killed already: it has no exit to wait for
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      });
    },
  };
}
