import { describe, expect, it } from 'vitest';
import { outsideRequestWindow } from '../../../src/surfaces/slack/request-window.js';
import { deliveryBackoffMs } from '../../../src/surfaces/workers/deliver-notices.js';
import { AppError } from '../../../src/shared/errors.js';

describe("Slack's 5-minute request window, both ways", () => {
  const now = 1_795_000_000_000;
  const sec = Math.floor(now / 1000);
  it('accepts timestamps within 5 minutes before or after now', () => {
    for (const d of [0, 299, -299, 300, -300]) expect(outsideRequestWindow(String(sec + d), now), `${d}`).toBe(false);
  });
  it('refuses timestamps further away, in the past or the future, and missing or malformed ones', () => {
    for (const d of [301, -301, 24 * 3600]) expect(outsideRequestWindow(String(sec + d), now), `${d}`).toBe(true);
    for (const bad of [undefined, '', 'abc', '1e9', '-5', `${sec}.5`])
      expect(outsideRequestWindow(bad, now), String(bad)).toBe(true);
    expect(outsideRequestWindow([String(sec)], now)).toBe(false);
  });
});

describe('notice delivery backoff', () => {
  it("waits Slack's Retry-After when given, else 1 s doubling up to 30 s", () => {
    const limited = new AppError({
      code: 'slack_api_error',
      message: '429',
      retryable: true,
      details: { retryAfterSec: 7 },
    });
    expect(deliveryBackoffMs(1, limited)).toBe(7000);
    expect([1, 2, 3, 4, 5, 6, 9].map((n) => deliveryBackoffMs(n))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
    expect(deliveryBackoffMs(2, new Error('socket hang up'))).toBe(2000);
  });
});
