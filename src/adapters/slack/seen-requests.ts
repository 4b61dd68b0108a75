import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { RedisConnection } from '../redis/redis-connection.js';
import { interactiveRedis } from '../redis/redis-deadline.js';

/**
 * How long a signature is remembered, s: a request is accepted while its timestamp is within
 * 5 minutes of now either way (Slack "Verifying requests from Slack"), so a signature first seen
 * at the start of its window can be replayed for up to 10 minutes.
 */
export const SEEN_SIGNATURE_TTL_SECONDS = 10 * 60 + 10;

/** Signatures this process remembers besides Redis (about 100 bytes each). */
const LOCAL_MEMORY_ENTRIES = 50_000;

/**
 * Slack request signatures already handled, shared by every replica through Redis: one key per
 * signature (`<prefix>:slack-seen:<sha256 of it>`, `SET … NX EX`), so a signed request replayed
 * inside its 5-minute window is recognised wherever it lands. Each process also remembers the
 * signatures it saw itself (an LRU with the same TTL), so a replay that reaches the same replica
 * is caught even when Redis is down or slow.
 */
export class SeenSlackRequests {
  private readonly local = new LRUCache<string, true>({
    max: LOCAL_MEMORY_ENTRIES,
    ttl: SEEN_SIGNATURE_TTL_SECONDS * 1000,
  });

  constructor(
    private readonly redis: Pick<RedisConnection, 'set' | 'status'>,
    private readonly prefix: string,
  ) {}

  /**
   * True the first time `signature` (the `x-slack-signature` header) is seen, false for a replay.
   * When Redis is down or does not answer within a few ms ({@link interactiveRedis}) the request
   * counts as new (`unchecked`) unless this process saw it: a Redis outage must not stop or slow
   * approvals, and the signature and 5-minute window still hold.
   */
  async firstSight(signature: string): Promise<'new' | 'replay' | 'unchecked'> {
    const digest = createHash('sha256').update(signature).digest('hex');
    if (this.local.has(digest)) return 'replay';
    this.local.set(digest, true);
    const key = `${this.prefix}:slack-seen:${digest}`;
    try {
      const set = await interactiveRedis(this.redis, () =>
        this.redis.set(key, '1', 'EX', SEEN_SIGNATURE_TTL_SECONDS, 'NX'),
      );
      return set === 'OK' ? 'new' : 'replay';
    } catch {
      return 'unchecked';
    }
  }
}
