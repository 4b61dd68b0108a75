import type { RedisConnection } from './redis-connection.js';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { interactiveRedis } from './redis-deadline.js';

/** A person's limits: incident-opening commands per hour, commands of any kind per minute. */
export interface CommandLimits {
  incidents_per_hour: number;
  commands_per_minute: number;
}

/** What {@link CommandRateLimiter.consume} decided. */
export type RateDecision =
  | { allowed: true; checked: boolean }
  | { allowed: false; limit: 'commands_per_minute' | 'incidents_per_hour'; max: number; retryAfterSeconds: number };

/**
 * Per-user command limits on the shared Redis (rate-limiter-flexible `RateLimiterRedis`, one
 * fixed window per limit and user, shared by every replica): a flood of commands from one user is
 * refused before it costs anything. When Redis is down or does not answer within a few ms
 * ({@link interactiveRedis}), the command is allowed (`checked: false`): a Redis outage must not
 * stop or slow an incident.
 */
export class CommandRateLimiter {
  private readonly limiters = new Map<string, RateLimiterRedis>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {}

  private limiter(kind: string, points: number, durationSeconds: number): RateLimiterRedis {
    const key = `${kind}/${points}/${durationSeconds}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `${this.prefix}:rl:${kind}`,
        points,
        duration: durationSeconds,
        rejectIfRedisNotReady: true,
      });
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  /**
   * Counts one command of `userId` against `limits` (and, when `opensIncident`, against the
   * hourly limit of incident-opening commands).
   * @returns allowed, or which limit is reached and in how many seconds it frees up
   */
  async consume(userId: string, limits: CommandLimits, opensIncident: boolean): Promise<RateDecision> {
    const checks: Array<['commands_per_minute' | 'incidents_per_hour', RateLimiterRedis, number]> = [
      ['commands_per_minute', this.limiter('cmd', limits.commands_per_minute, 60), limits.commands_per_minute],
    ];
    if (opensIncident)
      checks.push([
        'incidents_per_hour',
        this.limiter('open', limits.incidents_per_hour, 3600),
        limits.incidents_per_hour,
      ]);
    for (const [limit, limiter, max] of checks) {
      try {
        await interactiveRedis(this.redis, () => limiter.consume(userId, 1));
      } catch (err) {
        if (err instanceof RateLimiterRes)
          return { allowed: false, limit, max, retryAfterSeconds: Math.ceil(err.msBeforeNext / 1000) };
        return { allowed: true, checked: false };
      }
    }
    return { allowed: true, checked: true };
  }
}
