/**
 * `npm run bench`: the bot on its worst day, one table (then the detailed benches: downs tested
 * and plans computed, archive before destroy, rollback per
 * tool against the tool's API and CLI, triage on 2,000 tables, pg_dump against `pg_dump -Fc`).
 *
 * - **ack** of 50 concurrent signed `/migrate triage` over HTTP, p50 / p99, in the first burst
 *   after start and warm: the bot's app (`src/main/main.ts --role app`) against an ack-only Bolt app
 *   (`bench/ack-only-app.ts`), each in a fresh process of its own, this one sending the requests
 *   and playing Slack;
 * - **command → channel / triage / plan card** for one `/migrate rollback 007`;
 * - **100 concurrent incidents** on one app process and two worker processes, each incident on its
 *   own service database (copies of one migrated database), with Slack's own limits (one new
 *   message a second per channel, Tier 2 at 20 a minute): how many opened and finished, the
 *   most new messages one channel got in any second, RSS of each process.
 *
 * BENCH_INCIDENTS (default 100) and BENCH_SKIP_DETAIL=1 (only this table) shorten it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import pg from 'pg';
import { APPROVERS, SIGNING_SECRET, startHarness, type Harness } from '../test/support/bot-harness.js';
import { eventually, query } from '../test/support/bot-waits.js';
import { ADMIN_URL, withDatabase } from '../test/support/postgres.js';
import { postSlashCommand } from '../src/surfaces/drill/slack-requests.js';
import { startSlackApiServer } from '../test/support/slack-api-server.js';
import { createTicketServiceDb } from '../test/support/ticket-service.js';
import { freePort, maxPerChannelPerSecond } from '../test/support/measure.js';

const INCIDENTS = Number(process.env.BENCH_INCIDENTS ?? 100);
const SLACK_LIMITS = { SLACK_CHANNEL_MESSAGES_PER_SECOND: '1', SLACK_TIER_SCALE: '1' };

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const ms = (n: number) => `${Math.round(n).toLocaleString('en-US')}`;

/** 50 concurrent signed slash commands; the HTTP round trip of each (the ack), ms. */
async function burst(eventsUrl: string, n = 50): Promise<number[]> {
  const slack = responseSink;
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const t0 = performance.now();
      const res = await postSlashCommand(eventsUrl, SIGNING_SECRET, {
        text: 'triage',
        user_id: `U0BENCH${String(i).padStart(3, '0')}`,
        response_url: slack(),
      });
      if (res.status !== 200) throw new Error(`ack ${res.status}`);
      return performance.now() - t0;
    }),
  );
}
let responseSink: () => string = () => 'http://127.0.0.1:9/';

/** A Node process running `script` through tsx, ready once `ready()` holds (within 60 s). */
async function startProcess(
  what: string,
  script: string[],
  env: Record<string, string>,
  ready: () => Promise<boolean>,
): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...script], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  await eventually(`${what} ready`, async () => ((await ready().catch(() => false)) ? true : null), 60_000);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** An app that only acks `/migrate`, in its own process (`bench/ack-only-app.ts`): the floor for ack latency on this machine. */
async function ackOnlyApp(apiUrl: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/slack/events`;
  const p = await startProcess(
    'ack-only app',
    ['bench/ack-only-app.ts'],
    { PORT: String(port), SLACK_API_URL: apiUrl, SLACK_SIGNING_SECRET: SIGNING_SECRET },
    async () => (await fetch(url)).status > 0,
  );
  return { url, stop: p.stop };
}

/** The bot's Slack app (`src/main/main.ts --role app`) in its own process, on the harness's databases and Slack stand-in; its ops port reports RSS. */
async function botApp(h: Harness): Promise<{ url: string; opsPort: number; stop(): Promise<void> }> {
  const [port, opsPort] = [await freePort(), await freePort()];
  const p = await startProcess(
    'bot app',
    ['src/main/main.ts', '--role', 'app'],
    { ...h.rawEnv, PORT: String(port), HTTP_PORT: String(opsPort) },
    async () => (await fetch(`http://127.0.0.1:${opsPort}/readyz`)).ok,
  );
  return { url: `http://127.0.0.1:${port}/slack/events`, opsPort, stop: p.stop };
}

async function ackRows(): Promise<string[][]> {
  const slack = await startSlackApiServer();
  responseSink = () => slack.responseUrl();
  const h = await startHarness({}, { role: 'cli' });
  const floor = await ackOnlyApp(h.slack.apiUrl);
  const bot = await botApp(h);
  try {
    // Each ack-only burst runs while nothing else does: the bot's work after its acks (50 triages)
    // is awaited — every reply in — before the next burst, so neither app measures the other's work.
    const answered = (n: number) =>
      eventually(`${n} replies from the bot`, async () => (slack.responses.length >= n ? true : null), 120_000);
    const floorFirst = await burst(floor.url);
    const botFirst = await burst(bot.url);
    await answered(50);
    const floorWarm = await burst(floor.url);
    const botWarm = await burst(bot.url);
    await answered(100);
    const row = (what: string, bot: number[], base: number[]) => [
      what,
      `${ms(quantile(bot, 0.5))} / ${ms(quantile(bot, 0.99))}`,
      `${ms(quantile(base, 0.5))} / ${ms(quantile(base, 0.99))}`,
      (quantile(bot, 0.99) / quantile(base, 0.99)).toFixed(2),
    ];
    return [
      row('ack, 50 concurrent /migrate triage, first burst (p50 / p99 ms)', botFirst, floorFirst),
      row('ack, 50 concurrent, warm (p50 / p99 ms)', botWarm, floorWarm),
    ];
  } finally {
    await bot.stop();
    await floor.stop();
    await h.close();
    await slack.close();
  }
}

async function commandToPlan(): Promise<string[][]> {
  const h = await startHarness();
  try {
    const t0 = Date.now();
    await h.command('rollback 007');
    const channel = await h.slack.waitForCall('conversations.create', (c) => c.ok, 20_000);
    const triage = await h.slack.waitForCall(
      'chat.postMessage',
      (c) => JSON.stringify(c.args).includes('Migration history'),
      20_000,
    );
    const plan = await h.slack.waitForCall(
      'chat.postMessage',
      (c) => JSON.stringify(c.args).includes('incident_approve'),
      20_000,
    );
    return [
      [
        'command → channel / triage posted / plan card (ms)',
        `${ms(channel.at - t0)} / ${ms(triage.at - t0)} / ${ms(plan.at - t0)}`,
        '',
        '',
      ],
    ];
  } finally {
    await h.close();
  }
}

async function rssOf(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^migrate_bot_process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? NaN) / 1024 / 1024;
}

async function hundredIncidents(): Promise<string[][]> {
  const template = await createTicketServiceDb();
  const names = Array.from({ length: INCIDENTS }, (_, i) => `svc-${String(i).padStart(3, '0')}`);
  const tag = randomBytes(3).toString('hex');
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const copies = names.map((n) => `mb_bench_${tag}_${n.replace(/-/g, '_')}`);
  for (const c of copies) await admin.query(`CREATE DATABASE ${c} TEMPLATE ${template.name}`);
  const workers: ChildProcess[] = [];
  let h: Harness | undefined;
  let app: { url: string; opsPort: number; stop(): Promise<void> } | undefined;
  try {
    h = await startHarness(
      {},
      {
        role: 'cli',
        extraServices: names.map((name, i) => ({ name, databaseUrl: withDatabase(ADMIN_URL, copies[i]!) })),
        env: { ...SLACK_LIMITS, STATE_DB_POOL_MAX: '20' },
      },
    );
    const ports = [await freePort(), await freePort()];
    for (const port of ports) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/main.ts', '--role', 'worker'], {
        env: { ...process.env, ...h.rawEnv, HTTP_PORT: String(port) },
        stdio: 'ignore',
      });
      workers.push(child);
    }
    const harness = h;
    for (const port of ports)
      await eventually(
        'worker ready',
        async () =>
          await fetch(`http://127.0.0.1:${port}/readyz`).then(
            (r) => r.ok,
            () => false,
          ),
        60_000,
      );
    app = await botApp(h);
    h.eventsUrl = app.url;

    // The floor of this row: a fresh ack-only app's first burst of as many commands, just before
    // the bot's own first burst — both to a new origin, so both open their connections cold.
    const floorApp = await ackOnlyApp(harness.slack.apiUrl);
    const floor100 = await burst(floorApp.url, INCIDENTS).finally(() => floorApp.stop());
    const t0 = Date.now();
    const acks: number[] = [];
    await Promise.all(
      names.map(async (s, i) => {
        const a = performance.now();
        await harness.command(`rollback 007 --service ${s}`, `U0INC${String(i).padStart(3, '0')}`);
        acks.push(performance.now() - a);
      }),
    );
    const opened = await eventually(
      'incidents opened',
      async () => {
        const rows = await query<{ n: number }>(harness.stateDb.url, 'SELECT count(*)::int AS n FROM incidents');
        return rows[0]!.n === INCIDENTS ? rows[0]!.n : null;
      },
      60_000,
    ).catch(() => NaN);

    // Approve each plan card as it appears (two approvers, the destructive modal confirmed).
    const approved = new Set<string>();
    const limit = pLimit(10);
    const deadline = Date.now() + 15 * 60_000;
    let peakRss = [0, 0, 0];
    while (Date.now() < deadline) {
      const rows = await query<{ id: string; state: string; plan_message_ts: string | null }>(
        harness.stateDb.url,
        'SELECT i.id, i.state, s.plan_message_ts FROM incidents i LEFT JOIN incident_slack s ON s.incident_id = i.id AND s.plan_attempt = i.attempt',
      );
      const ready = rows.filter((r) => r.state === 'awaiting_approval' && r.plan_message_ts && !approved.has(r.id));
      for (const r of ready) approved.add(r.id);
      await Promise.all(
        ready.map((r) =>
          limit(async () => {
            await harness.press('incident_approve', r.id, APPROVERS[0]);
            await harness.press('incident_approve', r.id, APPROVERS[1]);
          }),
        ),
      );
      peakRss = await Promise.all(
        [...ports, app.opsPort].map(async (p, i) => Math.max(peakRss[i]!, await rssOf(p).catch(() => 0))),
      );
      if (
        rows.every((r) => ['resolved', 'resolved_with_warnings', 'failed', 'cancelled'].includes(r.state)) &&
        rows.length === INCIDENTS
      )
        break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const end = await query<{ state: string; n: number }>(
      harness.stateDb.url,
      'SELECT state, count(*)::int AS n FROM incidents GROUP BY state',
    );
    const failures = await query<{ code: string; message: string }>(
      harness.stateDb.url,
      "SELECT failure->>'code' AS code, failure->>'message' AS message FROM incidents WHERE state = 'failed'",
    );
    const warned = await query<{ checks: string }>(
      harness.stateDb.url,
      "SELECT string_agg((c->>'name') || ': ' || coalesce(c->'problems'->>0, ''), ',') AS checks FROM incident_events, jsonb_array_elements(data->'checks') c WHERE type = 'verified_with_warnings' AND c->>'status' = 'failed' GROUP BY incident_id",
    );
    const finished = end.find((e) => e.state === 'resolved')?.n ?? 0;
    const channels = (
      await query<{ n: number }>(harness.stateDb.url, 'SELECT count(channel_id)::int AS n FROM incident_slack')
    )[0]!.n;
    const elapsed = (Date.now() - t0) / 1000;
    return [
      [
        `${INCIDENTS} concurrent /migrate rollback: ack p50 / p99 (ms)`,
        `${ms(quantile(acks, 0.5))} / ${ms(quantile(acks, 0.99))}`,
        `${ms(quantile(floor100, 0.5))} / ${ms(quantile(floor100, 0.99))}`,
        (quantile(acks, 0.99) / quantile(floor100, 0.99)).toFixed(2),
      ],
      [
        `${INCIDENTS} concurrent incidents: opened / channels / resolved (of ${INCIDENTS}), in s`,
        `${opened} / ${channels} / ${finished} in ${Math.round(elapsed)} s`,
        '',
        '',
      ],
      [
        '  end states',
        end.map((e) => `${e.state} ${e.n}`).join(', ') +
          (warned.length ? ` (failed checks: ${[...new Set(warned.map((w) => w.checks))].join('; ')})` : ''),
        '',
        '',
      ],
      ...failures.map((f) => [`  failed: ${f.code}`, f.message.slice(0, 120), '', '']),
      [
        '  most new messages in one channel in any second',
        String(maxPerChannelPerSecond(harness.slack.callsTo('chat.postMessage'))),
        '',
        '',
      ],
      ['  RSS MiB, peak: worker 1 / worker 2 / app', peakRss.map((r) => Math.round(r)).join(' / '), '', ''],
    ];
  } finally {
    await app?.stop();
    for (const w of workers) w.kill('SIGTERM');
    await h?.close();
    for (const c of copies) await admin.query(`DROP DATABASE IF EXISTS ${c} WITH (FORCE)`);
    await admin.end();
    await template.drop();
  }
}

function print(rows: string[][]): void {
  const header = ['measure', 'migrate-bot', 'ack-only Bolt', 'ratio (p99)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log([line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n'));
}

async function runDetail(script: string): Promise<void> {
  console.log(`\n## ${script}`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit' });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited ${code}`))));
  });
}

const rows = [...(await ackRows()), ...(await commandToPlan()), ...(await hundredIncidents())];
console.log('\n## npm run bench\n');
print(rows);
if (!process.env.BENCH_SKIP_DETAIL) {
  for (const script of [
    'bench/rollback.ts',
    'bench/triage.ts',
    'bench/snapshot.ts',
    'bench/check.ts',
    'bench/archive.ts',
  ])
    await runDetail(script);
}
process.exit(0);
