/**
 * The drill as a newcomer meets it: the console in headless Chromium (playwright-core driving
 * Debian's chromium, installed by .ci/run), the real bot behind it, a real demo database.
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDrill, type DrillOptions, type RunningDrill } from '../../src/main/start-drill.js';
import { silentLogger } from '../../src/shared/logger.js';
import { query } from '../support/e2e-helpers.js';
import { dropDatabase } from '../support/postgres.js';

const CHROMIUM = '/usr/bin/chromium';

async function drillOptions(): Promise<DrillOptions> {
  const tag = randomBytes(4).toString('hex');
  return {
    port: 0,
    httpPort: 0,
    stateDatabaseUrl: `postgres://postgres@127.0.0.1:5432/mb_drill_state_${tag}`,
    serviceDatabaseUrl: `postgres://postgres@127.0.0.1:5432/mb_drill_tickets_${tag}`,
    redisUrl: 'redis://127.0.0.1:6379',
    queuePrefix: `mbtest-drill-${tag}`,
    snapshotDir: path.join(await mkdtemp(path.join(os.tmpdir(), 'mb-drill-')), 'backups'),
    logLevel: 'silent',
  };
}

/** Acts as `userId` in the console's picker. */
async function actAs(page: Page, userId: string): Promise<void> {
  await page.selectOption('#user', userId);
}

/** Presses the newest button `action` in the channel, confirming a modal if the bot opens one. */
async function press(page: Page, action: string): Promise<void> {
  await page.locator(`#messages .block-button[data-action-id="${action}"]`).last().click();
  const modal = page.locator('#modal-back');
  await page.waitForTimeout(400);
  if (await modal.isVisible()) {
    await page.fill('#modal input[data-block-id]', 'drill-tickets');
    await page.click('#modal [data-modal="submit"]');
  }
}

describe('drill console (npm start without Slack credentials)', () => {
  let drill: RunningDrill | undefined;
  let browser: Browser | undefined;
  let options: DrillOptions;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`);
    options = await drillOptions();
    drill = await startDrill(options, silentLogger);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await drill?.close();
    await Promise.all([dropDatabase(options.stateDatabaseUrl), dropDatabase(options.serviceDatabaseUrl)]);
  });

  it('a newcomer types /migrate rollback 003, two approvers press Approve, and the demo database is rolled back', async () => {
    const applied = async () =>
      (await query<{ name: string }>(options.serviceDatabaseUrl, 'SELECT name FROM knex_migrations ORDER BY id')).map(
        (r) => r.name,
      );
    expect(await applied()).toEqual([
      '001_create_tickets.js',
      '002_create_ticket_scans.js',
      '003_add_ticket_status_index.js',
      '004_add_price_check.js',
    ]);

    const page = await browser!.newPage();
    await page.goto(drill!.console.url.replace('localhost', '127.0.0.1'));
    await expect.poll(() => page.textContent('#banner')).toMatch(/DRILL — .*nothing here touches production/);
    await expect.poll(() => page.textContent('#drill-info')).toContain('drill-tickets');

    await actAs(page, 'U0DRILLONC');
    await page.fill('#command', '/migrate rollback 003');
    await page.click('#command-form button[type=submit]');
    await page.waitForSelector('#ephemerals :text("Opening incident")', { timeout: 15_000 });
    await page.waitForSelector('#messages .block-button[data-action-id="incident_approve"]', { timeout: 30_000 });
    const card = await page.textContent('#messages');
    expect(card).toContain('Rollback of 003_add_ticket_status_index.js');
    expect(card).toMatch(/004_add_price_check\.js/);
    expect(card).not.toMatch(/<!date\^|:warning:/); // Slack's markup is rendered, not shown raw

    // The requester cannot approve their own rollback; the console shows the bot's answer to them alone.
    await press(page, 'incident_approve');
    await page.waitForSelector('#ephemerals :text("you cannot approve it")', { timeout: 10_000 });

    await actAs(page, 'U0DRILLSRE');
    await press(page, 'incident_approve');
    await page.waitForSelector('#messages :text("approved (1 of 2)")', { timeout: 15_000 });
    await actAs(page, 'U0DRILLOWN');
    await press(page, 'incident_approve');
    await page.waitForSelector('#messages :text("Rollback complete")', { timeout: 45_000 });
    await page.screenshot({ path: path.join(os.tmpdir(), 'migrate-bot-drill.png'), fullPage: true });

    expect(await applied()).toEqual(['001_create_tickets.js', '002_create_ticket_scans.js']);
    const objects = await query<{ idx: string | null; chk: number }>(
      options.serviceDatabaseUrl,
      "SELECT to_regclass('tickets_status_idx')::text AS idx, (SELECT count(*)::int FROM pg_constraint WHERE conname = 'tickets_price_positive') AS chk",
    );
    expect(objects).toEqual([{ idx: null, chk: 0 }]);
    expect(await query(options.serviceDatabaseUrl, 'SELECT count(*)::int AS n FROM tickets')).toEqual([{ n: 500 }]);
    const row = await query<{ state: string }>(options.stateDatabaseUrl, 'SELECT state FROM incidents');
    expect(row).toEqual([{ state: 'resolved' }]);
  });
});

describe('drill start-up when a dependency is down', () => {
  it('names PostgreSQL and the command that starts it', async () => {
    const o = await drillOptions();
    await expect(
      startDrill({ ...o, stateDatabaseUrl: 'postgres://postgres@127.0.0.1:1/mb_drill_x' }, silentLogger),
    ).rejects.toThrow(
      /PostgreSQL for the drill's state database at 127\.0\.0\.1:1\/mb_drill_x is not reachable \(ECONNREFUSED.*pg_ctlcluster/s,
    );
  });

  it('names Redis and the command that starts it', async () => {
    const o = await drillOptions();
    await expect(startDrill({ ...o, redisUrl: 'redis://127.0.0.1:1' }, silentLogger)).rejects.toThrow(
      /Redis at 127\.0\.0\.1:1 \(REDIS_URL\) is not reachable.*redis-server --daemonize yes/s,
    );
    await dropDatabase(o.stateDatabaseUrl);
  });
});
