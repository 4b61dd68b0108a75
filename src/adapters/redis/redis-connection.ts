import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../../shared/logger.js';
import type { Env } from '../../config/env.js';

/** A Redis node's address. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Where the bot's Redis is (BullMQ "Going to production": a Redis that survives a node):
 *  - `url`: one server (`REDIS_URL`, `redis://` or `rediss://`);
 *  - `sentinel`: the primary of `name` as Redis Sentinel reports it (`REDIS_SENTINELS`,
 *    `REDIS_SENTINEL_NAME`); ioredis follows a failover to the promoted replica;
 *  - `cluster`: a Redis Cluster (`REDIS_CLUSTER_NODES`); queue keys carry a hash tag
 *    ({@link queuePrefixFor}) so each queue's keys live in one slot, as BullMQ requires.
 * `password` (`REDIS_PASSWORD`) is for the data nodes of a Sentinel or Cluster set-up; a URL
 * carries its own. Secret: never logged.
 */
export type RedisTarget =
  | { kind: 'url'; url: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; password?: string }
  | { kind: 'cluster'; nodes: HostPort[]; password?: string };

/** The {@link RedisTarget} the validated environment names (exactly one of the three ways, checked by `EnvSchema`). */
export function redisTargetOf(
  env: Pick<Env, 'REDIS_URL' | 'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME' | 'REDIS_CLUSTER_NODES' | 'REDIS_PASSWORD'>,
): RedisTarget {
  const password = env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {};
  if (env.REDIS_SENTINELS)
    return { kind: 'sentinel', sentinels: env.REDIS_SENTINELS, name: env.REDIS_SENTINEL_NAME!, ...password };
  if (env.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: env.REDIS_CLUSTER_NODES, ...password };
  return { kind: 'url', url: env.REDIS_URL! };
}

/** A connection of any {@link RedisTarget} kind, as BullMQ and rate-limiter-flexible accept it. */
export type RedisConnection = Redis | Cluster;

/**
 * Opens a connection to `target` with `options` (ioredis `RedisOptions`; for a Cluster they
 * apply to each node connection, `maxRetriesPerRequest`, `lazyConnect` and the rest included).
 */
export function connectRedis(target: RedisTarget, options: RedisOptions = {}): RedisConnection {
  switch (target.kind) {
    case 'url':
      return new Redis(target.url, options);
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: target.sentinels,
        name: target.name,
        ...(target.password ? { password: target.password } : {}),
      });
    case 'cluster':
      return new Cluster(target.nodes, {
        lazyConnect: options.lazyConnect ?? false,
        redisOptions: { ...options, ...(target.password ? { password: target.password } : {}) },
      });
  }
}

/** `host:port` of the target for messages and logs (never a password). */
export function describeRedis(target: RedisTarget): string {
  const list = (nodes: HostPort[]) => nodes.map((n) => `${n.host}:${n.port}`).join(', ');
  switch (target.kind) {
    case 'url':
      try {
        const u = new URL(target.url);
        return `${u.hostname}:${u.port || '6379'} (REDIS_URL)`;
      } catch {
        return 'REDIS_URL';
      }
    case 'sentinel':
      return `the primary of "${target.name}" per the sentinels ${list(target.sentinels)} (REDIS_SENTINELS)`;
    case 'cluster':
      return `the cluster at ${list(target.nodes)} (REDIS_CLUSTER_NODES)`;
  }
}

/**
 * The key prefix the queues use on `target`: a Cluster needs every key of one queue in one hash
 * slot, so the prefix is wrapped in a hash tag (`{migrate-bot}`; BullMQ "Redis Cluster").
 */
export function queuePrefixFor(target: RedisTarget, prefix: string): string {
  return target.kind === 'cluster' && !prefix.startsWith('{') ? `{${prefix}}` : prefix;
}

/**
 * Warns when Redis may evict keys: BullMQ needs `maxmemory-policy noeviction`, or jobs and locks
 * can vanish under memory pressure ("Going to production"). Managed services that refuse
 * `CONFIG GET` are noted at debug level and left alone.
 * @returns the policy read, or null when it could not be read
 */
export async function warnUnlessNoeviction(redis: RedisConnection, logger: Logger): Promise<string | null> {
  try {
    const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
    let policy: string | null = null;
    for (const node of nodes) {
      const answer = (await node.config('GET', 'maxmemory-policy')) as string[];
      policy = answer[1] ?? null;
      if (policy && policy !== 'noeviction') {
        logger.warn(
          { policy },
          `Redis maxmemory-policy is ${policy}: BullMQ needs noeviction, or queued rollbacks and their locks can be evicted under memory pressure. Set it: CONFIG SET maxmemory-policy noeviction (and in redis.conf).`,
        );
        return policy;
      }
    }
    return policy;
  } catch (err) {
    logger.debug({ err }, 'could not read maxmemory-policy (CONFIG GET refused); not checked');
    return null;
  }
}
