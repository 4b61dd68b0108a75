import { describe, expect, it, onTestFinished } from 'vitest';
import { Writable } from 'node:stream';
import pino from 'pino';
import { connectRedis, warnUnlessNoeviction } from '../../src/adapters/redis/redis-connection.js';
import { startOwnRedis } from '../support/redis-server.js';

/** Start-up warns when Redis may evict BullMQ's keys (BullMQ "Going to production": maxmemory-policy noeviction). */
describe('the maxmemory-policy check', () => {
  it('warns for an evicting policy and is quiet for noeviction', async () => {
    const redis = await startOwnRedis();
    onTestFinished(() => redis.stop());
    const lines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const client = connectRedis({ kind: 'url', url: redis.url });
    onTestFinished(() => void client.disconnect());
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    expect(await warnUnlessNoeviction(client, logger)).toBe('allkeys-lru');
    expect(lines.join('')).toContain('Redis maxmemory-policy is allkeys-lru: BullMQ needs noeviction');

    lines.length = 0;
    await client.config('SET', 'maxmemory-policy', 'noeviction');
    expect(await warnUnlessNoeviction(client, logger)).toBe('noeviction');
    expect(lines).toEqual([]);
  });
});
