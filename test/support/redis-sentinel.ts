import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './measure.js';
import { redisAnswers } from './redis-server.js';

/**
 * A Redis primary, one replica and three sentinels of the test's own, on free loopback ports
 * (Debian's redis-server, `--sentinel`): the set-up Redis Sentinel's docs call the minimum for
 * automatic failover. Quorum 2, a primary is "down" after 1 s.
 */
export interface SentinelSet {
  /** The master name the sentinels monitor. */
  name: string;
  /** `host:port,…` of the sentinels, as `REDIS_SENTINELS` takes them. */
  sentinels: string;
  /** Port of the primary as the sentinels report it now. */
  primaryPort(): Promise<number>;
  /** Kills the current primary (SIGKILL); the sentinels promote the replica. */
  killPrimary(): Promise<number>;
  /** Waits until the sentinels report a primary other than `oldPort` (ms budget). */
  waitForFailover(oldPort: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

const NAME = 'mbmaster';

function start(args: string[], what: string): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('error', (err) =>
      reject(new Error(`${what} could not be started (${err.message}); install it with: apt-get install redis-server`)),
    );
    child.once('spawn', () => resolve(child));
  });
}

/** Sends `SENTINEL <args>` to the sentinel on `port`. */
async function sentinelCommand(port: number, ...args: string[]): Promise<unknown> {
  const s = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
  s.on('error', () => undefined);
  try {
    return await s.call('SENTINEL', ...args);
  } finally {
    s.disconnect();
  }
}

/**
 * Starts the primary, the replica and three sentinels, and waits until every sentinel knows the
 * replica and the other two (so a failover can be agreed on).
 * @throws naming redis-server when it cannot be started (tests fail, never skip)
 */
export async function startSentinelSet(): Promise<SentinelSet> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mb-sentinel-'));
  const [primary, replica, ...sentinelPorts] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
  const base = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const nodes = new Map<number, ChildProcess>();
  nodes.set(primary!, await start(['--port', String(primary), ...base], 'redis-server (primary)'));
  nodes.set(
    replica!,
    await start(
      ['--port', String(replica), ...base, '--replicaof', '127.0.0.1', String(primary)],
      'redis-server (replica)',
    ),
  );
  await Promise.all([redisAnswers(primary!), redisAnswers(replica!)]);
  const sentinels: ChildProcess[] = [];
  for (const port of sentinelPorts) {
    const conf = path.join(dir, `sentinel-${port}.conf`);
    await writeFile(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `sentinel monitor ${NAME} 127.0.0.1 ${primary} 2`,
        `sentinel down-after-milliseconds ${NAME} 1000`,
        `sentinel failover-timeout ${NAME} 5000`,
        `sentinel parallel-syncs ${NAME} 1`,
        '',
      ].join('\n'),
    );
    sentinels.push(await start([conf, '--sentinel'], 'redis-server --sentinel'));
    await redisAnswers(port);
  }
  const set: SentinelSet = {
    name: NAME,
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    async primaryPort() {
      const [, port] = (await sentinelCommand(sentinelPorts[0]!, 'get-master-addr-by-name', NAME)) as [string, string];
      return Number(port);
    },
    async killPrimary() {
      const port = await set.primaryPort();
      const child = nodes.get(port);
      if (!child) throw new Error(`no primary of ours on port ${port}`);
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
      nodes.delete(port);
      return port;
    },
    async waitForFailover(oldPort, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = await set.primaryPort().catch(() => oldPort);
        if (now !== oldPort) return now;
        if (Date.now() > deadline) throw new Error(`the sentinels did not promote a replica within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      for (const c of [...nodes.values(), ...sentinels])
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  // Sentinels learn of the replica from the primary's INFO and of each other through hello messages.
  const deadline = Date.now() + 30_000;
  for (const port of sentinelPorts) {
    for (;;) {
      const replicas = (await sentinelCommand(port, 'replicas', NAME).catch(() => [])) as unknown[];
      const peers = (await sentinelCommand(port, 'sentinels', NAME).catch(() => [])) as unknown[];
      if (replicas.length >= 1 && peers.length >= 2) break;
      if (Date.now() > deadline) {
        await set.stop();
        throw new Error(`sentinel on ${port} did not learn of the replica and its peers within 30 s`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return set;
}
