import type { RedisConnection } from '../redis/redis-connection.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../../shared/errors.js';

/**
 * Slack's rate-limit tiers (docs.slack.dev "Rate limits"): calls per minute, per method, per
 * workspace, for the Web API methods migrate-bot calls. Slack allows short bursts above them and
 * answers 429 with `Retry-After` past them; pacing keeps the bot under them in the first place.
 */
export const METHOD_TIERS: Readonly<Record<string, 1 | 2 | 3 | 4>> = {
  'conversations.create': 2,
  'conversations.setTopic': 2,
  'conversations.archive': 2,
  'pins.add': 2,
  'bookmarks.add': 2,
  'usergroups.users.list': 2,
  'conversations.invite': 3,
  'conversations.history': 3,
  'conversations.replies': 3,
  'conversations.info': 3,
  'chat.update': 3,
  'chat.postEphemeral': 4,
  'chat.getPermalink': 4,
  'views.open': 4,
  'files.getUploadURLExternal': 4,
  'files.completeUploadExternal': 4,
};

/** Calls per minute of each tier. */
export const TIER_PER_MINUTE = { 1: 1, 2: 20, 3: 50, 4: 100 } as const;

/**
 * Decorations of the incident channel (topic, pins, bookmarks): when their tier has no room
 * they are skipped at once instead of waited for — the caller logs it and the next redraw tries
 * again — so a burst of incidents never queues their messages behind them.
 */
export const BEST_EFFORT = new Set(['conversations.setTopic', 'pins.add', 'bookmarks.add']);

/** Methods that put a new message in a channel: Slack's chat.postMessage limit, about one a second per channel. */
const NEW_MESSAGE: Readonly<Record<string, string>> = {
  'chat.postMessage': 'channel',
  'files.completeUploadExternal': 'channel_id',
};

/**
 * Paced at the level of whole notices (the delivery job asks {@link SlackPacer.reserve} before it
 * starts one), so a channel waiting for its turn never holds a worker slot.
 */
const RESERVED = new Set(['conversations.create']);

/** One limit: counted in Redis (shared by every process), or in this process while Redis does not answer. */
interface PacedLimit {
  shared: RateLimiterRedis;
  local: RateLimiterMemory;
}

/** Options of {@link SlackPacer}. */
export interface SlackPacerOptions {
  /** The producer connection; limits are shared by every bot process on this Redis. */
  redis: RedisConnection;
  /** Key prefix (QUEUE_PREFIX), so staging and production on one Redis do not share limits. */
  prefix: string;
  /** Longest a call waits in place for its turn, ms (default 3000); beyond it the call throws `slack_paced`. */
  maxWaitMs?: number;
  /** New messages per channel per second (default 1). */
  perChannelPerSecond?: number;
  /** Calls per minute per tier, replacing Slack's (tests make Tier 2 small). */
  perMinute?: Partial<Record<1 | 2 | 3 | 4, number>>;
  /** Length of a tier's window, s (default 60, Slack's minute); `perMinute` calls fit in each window. */
  tierWindowSeconds?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Paces Web API calls to Slack's limits before they are made: per method (its tier, per minute)
 * and per channel for new messages (about one a second, so no channel sees more than two in
 * any second). Counts live in Redis (rate-limiter-flexible, fixed windows), shared by the app and
 * every worker; while the connection is down an in-process limiter with the same limits counts
 * instead, at once (so a press never waits on Redis), and it also answers when a Redis call fails.
 * A call waits in place for its turn up to `maxWaitMs`; a best-effort decoration is skipped at
 * once; anything longer throws a retryable `slack_paced` carrying `retryAfterSec`, which the
 * notice delivery turns into a delayed job (no attempt spent).
 */
export class SlackPacer {
  private readonly tiers = new Map<number, PacedLimit>();
  private readonly channels: PacedLimit;
  private readonly maxWaitMs: number;
  private readonly redis: RedisConnection;

  constructor(options: SlackPacerOptions) {
    this.maxWaitMs = options.maxWaitMs ?? 3000;
    this.redis = options.redis;
    const limiter = (keyPrefix: string, points: number, duration: number): PacedLimit => {
      const local = new RateLimiterMemory({ points, duration });
      return {
        shared: new RateLimiterRedis({
          storeClient: options.redis,
          keyPrefix: `${options.prefix}:slack-pace:${keyPrefix}`,
          points,
          duration,
          insuranceLimiter: local,
        }),
        local,
      };
    };
    for (const tier of [1, 2, 3, 4] as const)
      this.tiers.set(
        tier,
        limiter(`tier${tier}`, options.perMinute?.[tier] ?? TIER_PER_MINUTE[tier], options.tierWindowSeconds ?? 60),
      );
    const rate = options.perChannelPerSecond ?? 1;
    this.channels = rate >= 1 ? limiter('channel', Math.round(rate), 1) : limiter('channel', 1, Math.ceil(1 / rate));
  }

  /** ms until `key` of `limiter` has room, consuming a point when it has (0); in-process when Redis does not answer. */
  private async take(limiter: PacedLimit, key: string): Promise<number> {
    try {
      // Disconnected: the in-process count at once. Connected: Redis's count, so every process shares
      // one (a deadline here would split the count between the two and let a channel see more).
      if (this.redis.status === 'ready') await limiter.shared.consume(key);
      else await limiter.local.consume(key);
      return 0;
    } catch (res) {
      if (res instanceof RateLimiterRes) return Math.max(1, res.msBeforeNext);
      throw res;
    }
  }

  /** Takes a point, waiting in place up to `maxWaitMs`; returns the wait still needed (0 when taken). */
  private async takeWithin(limiter: PacedLimit, key: string, budgetMs: number): Promise<number> {
    const deadline = Date.now() + budgetMs;
    for (;;) {
      const wait = await this.take(limiter, key);
      if (wait === 0) return 0;
      if (Date.now() + wait > deadline) return wait;
      await sleep(wait);
    }
  }

  /**
   * Waits for `method`'s turn (see the class). Unknown methods (auth.test and Slack's
   * special-tier ones) pass unpaced.
   * @throws AppError `slack_paced` (retryable, `details.retryAfterSec`, `details.skipped` for a best-effort call)
   */
  async acquire(method: string, args: Record<string, unknown> = {}): Promise<void> {
    const tier = METHOD_TIERS[method];
    if (tier !== undefined && !RESERVED.has(method)) {
      const wait = await this.takeWithin(this.tiers.get(tier)!, method, BEST_EFFORT.has(method) ? 0 : this.maxWaitMs);
      if (wait > 0) throw paced(method, wait, BEST_EFFORT.has(method));
    }
    const channelArg = NEW_MESSAGE[method];
    const channel = channelArg ? args[channelArg] : undefined;
    if (typeof channel === 'string' && channel) {
      const wait = await this.takeWithin(this.channels, channel, this.maxWaitMs);
      if (wait > 0) throw paced(method, wait, false);
    }
  }

  /**
   * For a call paced at the notice level (`conversations.create`): takes its turn now and
   * returns 0, or returns the ms until there is room (nothing taken) — the delivery job then
   * waits that long without starting the notice, and tells the requester their channel is queued.
   */
  async reserve(method: string): Promise<number> {
    const tier = METHOD_TIERS[method];
    return tier === undefined ? 0 : this.take(this.tiers.get(tier)!, method);
  }
}

function paced(method: string, waitMs: number, skipped: boolean): AppError {
  return new AppError({
    code: 'slack_paced',
    message: `${method} ${skipped ? 'skipped' : 'deferred'}: Slack's limit for it has no room for ${waitMs} ms`,
    retryable: true,
    details: { method, retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)), waitMs, skipped },
  });
}
