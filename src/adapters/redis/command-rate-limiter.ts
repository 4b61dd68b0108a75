import type { RedisConnection } from './redis-connection.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { INTERACTIVE_REDIS_DEADLINE_MS, interactiveRedis } from './redis-deadline.js';

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
 * refused before it costs anything. Each process also counts the commands it sees in memory
 * (`RateLimiterMemory`, the same windows): when Redis is down or does not answer within a few ms
 * ({@link interactiveRedis}), that count decides (`checked: false`) — it never refuses more than
 * the shared count would, and a Redis outage or a slow answer neither stops nor slows an incident.
 */
export class CommandRateLimiter {
  private readonly limiters = new Map<string, RateLimiterRedis>();
  private readonly local = new Map<string, RateLimiterMemory>();

  /**
   * @param deadlineMs how long a command waits for Redis before its own count decides, ms
   *   (default {@link INTERACTIVE_REDIS_DEADLINE_MS}: a person is waiting)
   */
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly deadlineMs = INTERACTIVE_REDIS_DEADLINE_MS,
  ) {}

  private localLimiter(kind: string, points: number, durationSeconds: number): RateLimiterMemory {
    const key = `${kind}/${points}/${durationSeconds}`;
    let limiter = this.local.get(key);
    if (!limiter) {
      limiter = new RateLimiterMemory({ keyPrefix: kind, points, duration: durationSeconds });
      this.local.set(key, limiter);
    }
    return limiter;
  }

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
    const checks: Array<['commands_per_minute' | 'incidents_per_hour', string, number, number]> = [
      ['commands_per_minute', 'cmd', limits.commands_per_minute, 60],
    ];
    if (opensIncident) checks.push(['incidents_per_hour', 'open', limits.incidents_per_hour, 3600]);
    let checked = true;
    for (const [limit, kind, max, seconds] of checks) {
      // This process's own count, kept whatever Redis does; it decides when Redis cannot answer.
      const local = await this.localLimiter(kind, max, seconds)
        .consume(userId, 1)
        .then(
          () => null,
          (res: RateLimiterRes) => res,
        );
      try {
        await interactiveRedis(this.redis, () => this.limiter(kind, max, seconds).consume(userId, 1), this.deadlineMs);
      } catch (err) {
        const refused = err instanceof RateLimiterRes ? err : local;
        if (!(err instanceof RateLimiterRes)) checked = false;
        if (refused) return { allowed: false, limit, max, retryAfterSeconds: Math.ceil(refused.msBeforeNext / 1000) };
      }
    }
    return { allowed: true, checked };
  }
}
