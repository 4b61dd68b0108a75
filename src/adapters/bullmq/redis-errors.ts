import { AppError } from '../../shared/errors.js';
import { describeRedis, type RedisTarget } from '../redis/redis-connection.js';

/**
 * Wraps a Redis connect failure: which server (host:port or the Sentinel/Cluster nodes, never a
 * password), and how to start one.
 * @returns AppError `redis_unreachable` (retryable)
 */
export function redisUnreachable(target: RedisTarget | string, err: unknown): AppError {
  const where = describeRedis(typeof target === 'string' ? { kind: 'url', url: target } : target);
  return new AppError({
    code: 'redis_unreachable',
    message: `Redis at ${where} is not reachable (${err instanceof Error ? err.message : String(err)}). Start it: \`redis-server --daemonize yes\`, \`sudo systemctl start redis-server\`, or \`docker compose up -d redis\`.`,
    cause: err,
    retryable: true,
  });
}
