import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { SeenSlackRequests } from '../../src/adapters/slack/seen-requests.js';

/** The replay guard on the machine's Redis: shared across replicas, and local when Redis cannot answer. */
describe('SeenSlackRequests', () => {
  const prefix = `mbtest-seen-${randomBytes(4).toString('hex')}`;
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('a signature seen by one replica is a replay on another (through Redis)', async () => {
    await redis.ping();
    const a = new SeenSlackRequests(redis, prefix);
    const b = new SeenSlackRequests(redis, prefix);
    expect(await a.firstSight('v0=replica-test')).toBe('new');
    expect(await b.firstSight('v0=replica-test')).toBe('replay');
  });

  it('with Redis gone, the first sight is unchecked and a replay to the same process is still caught', async () => {
    const gone = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
    const seen = new SeenSlackRequests(gone, prefix); // never connected: status "wait"
    expect(await seen.firstSight('v0=outage-test')).toBe('unchecked');
    expect(await seen.firstSight('v0=outage-test')).toBe('replay');
    expect(await seen.firstSight('v0=another')).toBe('unchecked');
    gone.disconnect();
  });
});
