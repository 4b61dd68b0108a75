import { describe, expect, it } from 'vitest';
import { incidentChannelName } from '../../../src/incident/open-incident.js';
import { toChannelName } from '../../../src/slack/slack-notifier.js';

describe('incident channel names', () => {
  it('uses the UTC minute stamp from runbook 003', () => {
    expect(incidentChannelName(new Date('2026-11-21T03:07:59Z'))).toBe('incident-db-migration-20261121-0307');
  });

  it('appends -2, -3 … and stays within Slack rules (lowercase, digits, - and _, ≤ 80)', () => {
    expect(toChannelName('incident-db-migration-20261121-0307', 1)).toBe('incident-db-migration-20261121-0307');
    expect(toChannelName('incident-db-migration-20261121-0307', 3)).toBe('incident-db-migration-20261121-0307-3');
    const long = toChannelName(`Incident ${'x'.repeat(100)}`, 12);
    expect(long).toMatch(/^[a-z0-9_-]+$/);
    expect(long.length).toBeLessThanOrEqual(80);
    expect(long.endsWith('-12')).toBe(true);
  });
});
