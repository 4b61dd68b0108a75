/**
 * Fairness benchmark: `npm run bench:fairness`. One user floods the bot with 100 `/migrate triage`
 * (each a set of read-only queries against the demo service database, capped at 4 connections);
 * 50 ms later another user types `/migrate help`. Measured: the time from sending that help to its
 * answer on the response_url (ms), alone and during the flood, 5 rounds each, and how long the
 * flood itself took to be answered. The real bot over signed HTTP, the Slack stand-in, the local
 * PostgreSQL and Redis; rate limits raised so the flood is not simply refused.
 */
import { performance } from 'node:perf_hooks';
import { APPROVERS, type Harness, REQUESTER, startHarness } from '../test/support/bot-harness.js';

const FLOOD = 100;
const ROUNDS = 5;

async function answerMs(h: Harness, text: string, user: string): Promise<number> {
  const t0 = performance.now();
  const { key } = await h.command(text, user);
  await h.slack.waitForResponse((r) => r.key === key, 120_000);
  return performance.now() - t0;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number): string => `${Math.round(ms).toLocaleString('en-US')} ms`;

async function main(): Promise<void> {
  const h = await startHarness({
    access: { requesters: 'anyone', rate_limits: { incidents_per_hour: 1000, commands_per_minute: 1000 } },
  });
  try {
    const alone: number[] = [];
    const flooded: number[] = [];
    const floods: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      alone.push(await answerMs(h, 'help', APPROVERS[0]));
      const t0 = performance.now();
      const flood = Array.from({ length: FLOOD }, () => answerMs(h, 'triage', REQUESTER));
      await new Promise((r) => setTimeout(r, 50));
      flooded.push(await answerMs(h, 'help', APPROVERS[0]));
      await Promise.all(flood);
      floods.push(performance.now() - t0);
    }
    const rows: Array<[string, string, string]> = [
      ['`/migrate help` of another user, alone', fmt(median(alone)), fmt(Math.max(...alone))],
      [
        `\`/migrate help\` during ${FLOOD} \`/migrate triage\` of one user`,
        fmt(median(flooded)),
        fmt(Math.max(...flooded)),
      ],
      [`the ${FLOOD} triage answers, all`, fmt(median(floods)), fmt(Math.max(...floods))],
    ];
    console.log(`\nFairness, ${ROUNDS} rounds (median / max):\n`);
    console.log('| measured | median | max |\n| --- | ---: | ---: |');
    for (const [what, med, max] of rows) console.log(`| ${what} | ${med} | ${max} |`);
  } finally {
    await h.close();
  }
}

await main();
