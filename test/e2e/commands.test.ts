import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/bot-harness.js';

describe('/migrate help, triage, status, snapshot (real app over HTTP)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const answer = async (text: string, timeoutMs = 15_000): Promise<string> => {
    const { key } = await h.command(text);
    const res = await h.slack.waitForResponse((r) => r.key === key, timeoutMs);
    expect(res.body.response_type).toBe('ephemeral');
    return JSON.stringify(res.body);
  };

  it('help lists every command', async () => {
    const text = await answer('help');
    for (const cmd of ['rollback', 'triage', 'status', 'snapshot', 'close', 'help'])
      expect(text).toContain(`/migrate ${cmd}`);
  });

  it('triage answers with the checks, read-only, without an incident', async () => {
    const text = await answer('triage');
    expect(text).toContain('Migration history');
    expect(text).toContain('Blocking locks');
  });

  it('status shows the tracking table head when no incident is open', async () => {
    const text = await answer('status --service ticket-service');
    expect(text).toContain('no open incident');
    expect(text).toContain('007_add_security_tables.ts');
  });

  it('snapshot takes a pg_dump in a job and reports it through the response_url', async () => {
    const { key } = await h.command('snapshot');
    const first = await h.slack.waitForResponse(
      (r) => r.key === key && JSON.stringify(r.body).includes('Taking snapshot'),
    );
    const name = /`(pre-rollback-ticket-service-\d{8}-\d{6})`/.exec(JSON.stringify(first.body))?.[1];
    expect(name).toBeTruthy();
    await h.slack.waitForResponse((r) => r.key === key && JSON.stringify(r.body).includes('is available'), 20_000);
    expect(await readdir(h.snapshotDir)).toContain(`${name}.dump`);
  });

  it('close refuses when there is nothing to close', async () => {
    expect(await answer('close')).toContain('has no open incident');
  });
});
