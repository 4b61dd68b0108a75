import { describe, expect, it } from 'vitest';
import { createAcksFirstQueue } from '../../../src/surfaces/slack/acks-first.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('work after the ack, acks first', () => {
  it('holds work while requests keep arriving and starts it once the receiver is quiet', async () => {
    // quietMs well above the 20 ms between requests, so a machine busy with other test files cannot stretch a gap past it.
    const q = createAcksFirstQueue({ concurrency: 4, quietMs: 200, maxHoldMs: 5000 });
    const started: number[] = [];
    const t0 = Date.now();
    q.arrived();
    const done = q.run(async () => {
      started.push(Date.now() - t0);
      return 'ran';
    });
    // Requests keep coming for ~120 ms: the work must not start during them.
    for (let i = 0; i < 6; i++) {
      await sleep(20);
      expect(started).toEqual([]);
      q.arrived();
    }
    expect(q.waiting).toBe(1);
    await expect(done).resolves.toBe('ran');
    expect(started[0]!).toBeGreaterThanOrEqual(120 + 200 - 5);
  });

  it('starts work that has waited maxHoldMs even while requests never stop', async () => {
    const q = createAcksFirstQueue({ concurrency: 1, quietMs: 50, maxHoldMs: 150 });
    q.arrived();
    let ran = false;
    const done = q.run(async () => {
      ran = true;
    });
    const stream = setInterval(() => q.arrived(), 10);
    try {
      await sleep(100);
      expect(ran).toBe(false);
      await done;
      expect(ran).toBe(true);
    } finally {
      clearInterval(stream);
    }
  });

  it('runs at most `concurrency` at a time and passes errors back to the caller', async () => {
    const q = createAcksFirstQueue({ concurrency: 2, quietMs: 1 });
    let running = 0;
    let most = 0;
    const work = async () => {
      running++;
      most = Math.max(most, running);
      await sleep(20);
      running--;
    };
    await Promise.all(Array.from({ length: 6 }, () => q.run(work)));
    expect(most).toBe(2);
    await expect(
      q.run(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(q.running).toBe(0);
  });

  it('tells the waiting and running counts as work is held, starts and ends', async () => {
    const seen: Array<{ waiting: number; running: number }> = [];
    const q = createAcksFirstQueue({ concurrency: 1, quietMs: 20, onChange: (c) => seen.push(c) });
    q.arrived();
    await Promise.all([q.run(async () => sleep(5)), q.run(async () => sleep(5))]);
    expect(Math.max(...seen.map((c) => c.waiting))).toBe(2);
    expect(Math.max(...seen.map((c) => c.running))).toBe(1);
    expect(seen.at(-1)).toEqual({ waiting: 0, running: 0 });
  });

  it("is fair between users: one user's flood runs behind another user's first command", async () => {
    const q = createAcksFirstQueue({ concurrency: 2, quietMs: 1, maxHoldMs: 1000 });
    const order: string[] = [];
    q.arrived(); // held: everything below is queued before any of it starts
    const flood = Array.from({ length: 20 }, (_, i) =>
      q.run(async () => {
        order.push(`flood-${i}`);
        await sleep(2);
      }, 'U0FLOOD'),
    );
    const help = q.run(async () => {
      order.push('other');
    }, 'U0OTHER');
    await Promise.all([...flood, help]);
    // The other user's command runs among the first two started, not after the twenty.
    expect(order.indexOf('other')).toBeLessThan(2);
    expect(order.filter((o) => o.startsWith('flood'))).toEqual(flood.map((_, i) => `flood-${i}`));
  });

  it('runs work at once when no request has arrived lately', async () => {
    const q = createAcksFirstQueue({ concurrency: 1, quietMs: 1000 });
    const t0 = Date.now();
    await q.run(async () => undefined);
    expect(Date.now() - t0).toBeLessThan(500);
  });
});
