import { describe, expect, it } from 'vitest';
import { incidentChannelName } from '../../../src/domain/incident/use-cases/open-incident.js';
import { toChannelName } from '../../../src/adapters/slack/incident-channel-opener.js';

describe('incident channel names', () => {
  const incident = {
    createdAt: new Date('2026-11-21T03:07:59Z'),
    service: 'ticket-service',
    id: '3f2a9c1e-0000-4000-8000-000000000000',
  };
  it("is runbook 003's name with the UTC minute stamp, the service and the short id: unique by construction", () => {
    expect(incidentChannelName(incident)).toBe('incident-db-migration-20261121-0307-ticket-service-3f2a9c1e');
    expect(incidentChannelName({ ...incident, id: '3f2a9c1f-0000-4000-8000-000000000000' })).not.toBe(
      incidentChannelName(incident),
    );
  });

  it("cuts a long service name, never the id, to fit 80 characters and Slack's rules", () => {
    const name = incidentChannelName({ ...incident, service: `${'a'.repeat(39)}-` });
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name.endsWith('-3f2a9c1e')).toBe(true);
    expect(name).not.toContain('--');
    expect(toChannelName(name, 1)).toBe(name);
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
