import type { RedisConnection } from './redis-connection.js';
import { withDeadline } from '../../shared/deadline.js';

/**
 * How long a person-facing path (a press, a command's ack, a `views.open` within Slack's 3 s
 * trigger window) waits for Redis before going on without it, ms.
 */
export const INTERACTIVE_REDIS_DEADLINE_MS = 50;

/** Redis did not answer in time, or is known to be down: the caller goes on without it. */
export class RedisNotAnswering extends Error {
  constructor(why: string) {
    super(`Redis ${why}`);
    this.name = 'RedisNotAnswering';
  }
}

/**
 * Runs a Redis call on a person-facing path: at once {@link RedisNotAnswering} when the client is
 * not connected (`status` other than `ready`: nothing is sent, nothing waits in ioredis's offline
 * queue), else the call raced against `ms` (ms). The caller falls back (an in-process limiter,
 * "unchecked"); the call itself may still complete later.
 * @throws RedisNotAnswering, or what the call throws
 */
export function interactiveRedis<T>(
  redis: Pick<RedisConnection, 'status'>,
  call: () => Promise<T>,
  ms = INTERACTIVE_REDIS_DEADLINE_MS,
): Promise<T> {
  if (redis.status !== 'ready') return Promise.reject(new RedisNotAnswering(`is ${redis.status}`));
  return withDeadline(call(), ms, () => new RedisNotAnswering(`did not answer within ${ms} ms`));
}
