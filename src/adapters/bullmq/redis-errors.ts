import { AppError } from '../../shared/errors.js';

/**
 * Wraps a Redis connect failure: which server (host:port, never a password), and how to start one.
 * @returns AppError `redis_unreachable` (retryable)
 */
export function redisUnreachable(url: string, err: unknown): AppError {
  let where = url;
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || '6379'}`;
  } catch {
    /* keep the URL as given; it was validated as redis:// */
  }
  return new AppError({
    code: 'redis_unreachable',
    message: `Redis at ${where} (REDIS_URL) is not reachable (${err instanceof Error ? err.message : String(err)}). Start it: \`redis-server --daemonize yes\`, \`sudo systemctl start redis-server\`, or \`docker compose up -d redis\`.`,
    cause: err,
    retryable: true,
  });
}
