/**
 * The drill as a newcomer meets it: the console in headless Chromium (playwright-core driving
 * Debian's chromium, installed by .ci/run), the real bot behind it, a real demo database.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDrill, type DrillOptions, type RunningDrill } from '../../src/main/start-drill.js';
import { silentLogger } from '../../src/shared/logger.js';
import { query } from '../support/e2e-helpers.js';
import { dropDatabase } from '../support/postgres.js';

/** The README's picture of the drill, refreshed by this test. */
const SCREENSHOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/drill.png');
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

/**
 * Presses the newest button `action` in the channel as Slack does: its confirm dialog first (Block
 * Kit `confirm`), then the typed confirmation if the bot opens its modal.
 */
async function press(page: Page, action: string): Promise<{ confirmTitle: string | null }> {
  await page.locator(`#messages .block-button[data-action-id="${action}"]`).last().click();
  let confirmTitle: string | null = null;
  const yes = page.locator('#modal [data-confirm-answer="yes"]');
  if (await yes.isVisible()) {
    confirmTitle = await page.textContent('#modal h3');
    await yes.click();
  }
  const input = page.locator('#modal input[data-block-id]');
  await input.waitFor({ state: 'visible', timeout: 1500 }).catch(() => undefined);
  if (await input.isVisible()) {
    await input.fill('drill-tickets');
    await page.click('#modal [data-modal="submit"]');
  }
  return { confirmTitle };
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

    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(drill!.console.url.replace('localhost', '127.0.0.1'));
    await expect.poll(() => page.textContent('#banner')).toMatch(/DRILL — .*nothing here touches production/);
    await expect.poll(() => page.textContent('#drill-info')).toContain('drill-tickets');

    await actAs(page, 'U0DRILLONC');
    await page.fill('#command', '/migrate rollback 003');
    await page.click('#command-form button[type=submit]');
    await page.waitForSelector('#ephemerals :text("Opening incident")', { timeout: 15_000 });
    await page.waitForSelector('#messages .block-button[data-action-id="incident_approve"]', { timeout: 30_000 });
    // The new incident channel is selected, as Slack opens a channel you are invited to; its summary is pinned.
    await expect.poll(() => page.textContent('#channel-head')).toMatch(/# incident-db-migration-/);
    await expect.poll(() => page.locator('#messages .message.pinned').count()).toBe(1);
    // After triage, the Approve button is on the screen (1400×900): the channel follows the newest
    // message, as Slack does. (From the top of the channel it ends at y≈880–907 px, depending on how
    // the triage lines wrap; that is not asserted.)
    await page.waitForSelector('#messages :text("Triage of drill-tickets")', { timeout: 30_000 });
    await expect
      .poll(async () => {
        const box = await page
          .locator('#messages .block-button[data-action-id="incident_approve"]')
          .last()
          .boundingBox();
        return box !== null && box.y > 0 && box.y + box.height < 900;
      })
      .toBe(true);
    // Threads are collapsed to "n replies", as in Slack.
    expect(await page.locator('#messages details.thread[open]').count()).toBe(0);
    const card = await page.textContent('#messages');
    expect(card).toContain('Rollback of 003_add_ticket_status_index.js');
    expect(card).toMatch(/004_add_price_check\.js/);
    expect(card).not.toMatch(/<!date\^|:warning:/); // Slack's markup is rendered, not shown raw

    // The answer's #channel link is a link, as in Slack.
    await page.locator('#ephemerals a.mention[data-goto]').first().click();
    await expect.poll(() => page.textContent('#channel-head')).toMatch(/# incident-db-migration-/);
    // The requester cannot approve their own rollback; the console shows the bot's answer to them alone.
    const first = await press(page, 'incident_approve');
    expect(first.confirmTitle).toMatch(/Approve this rollback\?|Destructive plan/); // Block Kit's confirm dialog is shown
    await page.waitForSelector('#ephemerals :text("you cannot approve it")', { timeout: 10_000 });

    // Another person sees their own answers only: none yet.
    await actAs(page, 'U0DRILLSRE');
    await expect.poll(() => page.locator('#ephemerals .ephemeral').count()).toBe(0);
    await press(page, 'incident_approve');
    // The approval is said in the summary's thread (collapsed) and counted on the pinned summary.
    await expect
      .poll(() => page.textContent('#messages .message.pinned'), { timeout: 15_000 })
      .toContain('1 of 2 — @sam');
    await page.locator('#messages details.thread summary').first().click();
    await page.waitForSelector('#messages :text("approved (1 of 2)")', { timeout: 15_000 });
    await actAs(page, 'U0DRILLOWN');
    await press(page, 'incident_approve');
    await page.waitForSelector('#messages :text("Rollback complete")', { timeout: 45_000 });
    // The pinned summary's Next line now says what to watch; no emoji is left as a :code:.
    await expect
      .poll(() => page.textContent('#messages .message.pinned'), { timeout: 15_000 })
      .toContain('watch error rates');
    // The incident process: the summary shows the severity and who holds the incident; runbook 003's
    // follow-ups are proposed with Create buttons.
    await expect
      .poll(() => page.textContent('#messages .message.pinned'), { timeout: 15_000 })
      .toMatch(/SEV3.*commander @dana/);
    await page.waitForSelector('#messages .block-button[data-action-id="followup_create"]', { timeout: 15_000 });
    const texts = await page.locator('#messages, #ephemerals, #channel-head').allTextContents();
    expect(texts.join('\n')).not.toMatch(/:[a-z_]+:/);
    await page.screenshot({ path: SCREENSHOT });
    // The timeline file opens as its Markdown, not the upload's multipart body.
    await page.waitForSelector('#messages .file a', { timeout: 15_000 });
    const href = await page.getAttribute('#messages .file a', 'href');
    const file = await (await fetch(new URL(href!, drill!.console.url.replace('localhost', '127.0.0.1')))).text();
    expect(file).toContain('## Timeline (UTC)');
    expect(file).not.toMatch(/Content-Disposition|------/);

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
  it('refuses other web pages: a cross-origin POST from a page the operator visits opens nothing (Chromium)', async () => {
    const consoleUrl = drill!.console.url.replace('localhost', '127.0.0.1');
    const before = await query(options.stateDatabaseUrl, 'SELECT id FROM incidents');
    const attack = `<script>
      const body = JSON.stringify({ user: 'U0DRILLONC', text: 'rollback 004' });
      Promise.allSettled([
        fetch('${consoleUrl}api/command', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body }),
        fetch('${consoleUrl}api/command', { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
      ]).then((r) => { document.title = 'done:' + r.map((x) => x.status).join(','); });
    </script>`;
    const evil = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(attack));
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    try {
      const page = await browser!.newPage();
      await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      await expect.poll(() => page.title(), { timeout: 10_000 }).toMatch(/^done:/);
      // The no-cors POST reached the console and was refused (403); the JSON one never passed its preflight.
      expect(await page.title()).toBe('done:fulfilled,rejected');
    } finally {
      evil.close();
    }
    expect(drill!.console.workspace.ephemerals.some((e) => e.text.includes('rollback 004'))).toBe(false);
    expect(await query(options.stateDatabaseUrl, 'SELECT id FROM incidents')).toEqual(before);
  });

  it('answers only as localhost, takes JSON only from its own origin, and lets you act only as the cast', async () => {
    const port = Number(new URL(drill!.console.url).port);
    const post = (headers: Record<string, string>, body: unknown) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: '/api/command', method: 'POST', headers }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.end(JSON.stringify(body));
      });
    const json = { 'content-type': 'application/json' };
    const host = { host: `localhost:${port}` };
    const cmd = { user: 'U0DRILLONC', text: 'help' };
    expect((await post({ ...json, host: `evil.example:${port}` }, cmd)).status).toBe(421);
    const foreign = await post({ ...json, ...host, origin: 'https://evil.example' }, cmd);
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain('only the console');
    expect((await post({ 'content-type': 'text/plain', ...host }, cmd)).status).toBe(415);
    const stranger = await post({ ...json, ...host }, { user: 'U0ATTACKER', text: 'rollback 004' });
    expect(stranger.status).toBe(400);
    expect(stranger.body).toContain("act as one of the drill's people: dana, sam, omar, pat");
    expect((await post({ ...json, ...host, origin: `http://localhost:${port}` }, cmd)).status).toBe(200);
  });
});

describe('drill start-up when a dependency is down', () => {
  it('names PostgreSQL and the command that starts it', async () => {
    const o = await drillOptions();
    await expect(
      startDrill({ ...o, stateDatabaseUrl: 'postgres://postgres@127.0.0.1:1/mb_drill_x' }, silentLogger),
    ).rejects.toThrow(
      /PostgreSQL for the drill's state database \(DRILL_STATE_DATABASE_URL\) at 127\.0\.0\.1:1\/mb_drill_x is not reachable \(ECONNREFUSED.*pg_ctlcluster/s,
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
