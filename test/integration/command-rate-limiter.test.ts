import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandRateLimiter } from '../../src/adapters/redis/command-rate-limiter.js';

const LIMITS = { incidents_per_hour: 2, commands_per_minute: 100 };

/** Per-user limits on the machine's Redis, and this process's own count when Redis cannot answer. */
describe('CommandRateLimiter', () => {
  const prefix = `mbtest-rl-${randomBytes(4).toString('hex')}`;
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('counts across replicas through Redis: the third opening command of the hour is refused on either', async () => {
    await redis.ping();
    // A generous deadline: this test is about the shared count, not about Redis answering in 50 ms on a busy machine.
    const a = new CommandRateLimiter(redis, prefix, 5000);
    const b = new CommandRateLimiter(redis, prefix, 5000);
    expect(await a.consume('U0ONE0001', LIMITS, true)).toEqual({ allowed: true, checked: true });
    expect(await b.consume('U0ONE0001', LIMITS, true)).toEqual({ allowed: true, checked: true });
    expect(await a.consume('U0ONE0001', LIMITS, true)).toMatchObject({
      allowed: false,
      limit: 'incidents_per_hour',
      max: 2,
    });
    expect(await b.consume('U0TWO0002', LIMITS, true)).toEqual({ allowed: true, checked: true }); // others are not affected
  });

  it('with Redis unable to answer, the process still counts what it saw: unchecked, but the third is refused', async () => {
    const gone = new Redis('redis://127.0.0.1:6379', { lazyConnect: true }); // never connected
    const limiter = new CommandRateLimiter(gone, prefix);
    expect(await limiter.consume('U0THREE03', LIMITS, true)).toEqual({ allowed: true, checked: false });
    expect(await limiter.consume('U0THREE03', LIMITS, true)).toEqual({ allowed: true, checked: false });
    expect(await limiter.consume('U0THREE03', LIMITS, true)).toMatchObject({
      allowed: false,
      limit: 'incidents_per_hour',
      retryAfterSeconds: expect.any(Number),
    });
    gone.disconnect();
  });
});
