/**
 * The Slack stand-in and the Slack-request builders, exercised through the real clients:
 * `WebClient` from @slack/bolt's `webApi`, and a real Bolt `App` receiving our signed requests.
 */
import { createHmac } from 'node:crypto';
import net from 'node:net';
import { App, isValidSlackRequest, LogLevel, webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSlackApiServer, type SlackApiServer } from '../../support/slack-api-server.js';
import {
  formEncode,
  postBlockActions,
  postSlashCommand,
  signSlackRequest,
  slashCommandBody,
} from '../../support/slack-request.js';

type WebClient = InstanceType<typeof webApi.WebClient>;

let server: SlackApiServer;
let client: WebClient;

/**
 * Swallows WebClient's log lines: it logs the `[ERROR] …` lines of Slack's
 * `response_metadata.messages` at error level, which these tests provoke on purpose.
 */
const quietLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => webApi.LogLevel.ERROR,
  setName: () => {},
};

/** A WebClient against the stand-in, without retries (errors surface at once). */
function clientWith(token: string | undefined): WebClient {
  return new webApi.WebClient(token, {
    slackApiUrl: server.apiUrl,
    retryConfig: { retries: 0 },
    logger: quietLogger,
  });
}

/** The Slack `error` string of a rejected Web API call. */
async function slackError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const data = (e as { data?: { error?: unknown } }).data;
    if (typeof data?.error === 'string') return data.error;
    throw e;
  }
  throw new Error('expected the call to fail, it succeeded');
}

beforeEach(async () => {
  server = await startSlackApiServer();
  client = clientWith(server.botToken);
});

afterEach(async () => {
  await server.close();
});

describe('authentication', () => {
  it('answers auth.test with the bot identity', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({
      ok: true,
      team_id: server.teamId,
      user_id: server.botUserId,
      is_enterprise_install: false,
    });
    expect(res.bot_id).toMatch(/^B/);
    expect(res.url).toMatch(/^https:\/\//);
  });

  it('rejects a missing token with not_authed and a wrong one with invalid_auth', async () => {
    expect(await slackError(clientWith(undefined).auth.test())).toBe('not_authed');
    expect(await slackError(clientWith('xoxb-wrong').auth.test())).toBe('invalid_auth');
    expect(server.callsTo('auth.test').map((c) => c.error)).toEqual(['not_authed', 'invalid_auth']);
  });

  it('accepts the token as a `token` argument instead of the header, and never records it', async () => {
    const res = await fetch(`${server.apiUrl}auth.test`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `token=${server.botToken}`,
    });
    expect(await res.json()).toMatchObject({ ok: true, user_id: server.botUserId });
    await expect(clientWith(undefined).auth.test({ token: server.botToken })).resolves.toMatchObject({ ok: true });
    expect(server.calls.map((c) => c.args)).toEqual([{}, {}]);
  });

  it('answers unknown_method for methods it does not implement', async () => {
    expect(await slackError(client.apiCall('users.fancyNewMethod'))).toBe('unknown_method');
  });

  it('accepts application/json bodies', async () => {
    const res = await fetch(`${server.apiUrl}conversations.create`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.botToken}`, 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ name: 'json-body', is_private: true }),
    });
    const body = (await res.json()) as { ok: boolean; channel: { is_private: boolean } };
    expect(res.status).toBe(200);
    expect(body.ok).toBe(true);
    expect(body.channel.is_private).toBe(true);
    expect(server.calls[0]?.args).toEqual({ name: 'json-body', is_private: true });
  });
});

describe('conversations.create', () => {
  it('creates a channel with the bot as creator and member', async () => {
    const res = await client.conversations.create({ name: 'incident-db-migration-20241121-0930', is_private: true });
    expect(res.channel).toMatchObject({
      name: 'incident-db-migration-20241121-0930',
      is_channel: true,
      is_private: true,
      is_member: true,
      creator: server.botUserId,
    });
    expect(res.channel?.id).toMatch(/^C[A-Z0-9]+$/);
    expect(server.channels).toEqual([
      expect.objectContaining({ id: res.channel?.id, is_private: true, members: [server.botUserId] }),
    ]);
    expect(server.calls[0]?.args).toEqual({ name: 'incident-db-migration-20241121-0930', is_private: 'true' });
  });

  it("enforces Slack's channel-name rules", async () => {
    expect(await slackError(client.conversations.create({ name: '' }))).toBe('invalid_name_required');
    expect(await slackError(client.conversations.create({ name: 'a'.repeat(81) }))).toBe('invalid_name_maxlength');
    await expect(client.conversations.create({ name: 'a'.repeat(80) })).resolves.toMatchObject({ ok: true });
    for (const bad of ['Incident', 'has space', 'dot.ted', '#hash', 'émoji', 'colon:x']) {
      expect(await slackError(client.conversations.create({ name: bad })), bad).toBe('invalid_name_specials');
    }
    await expect(client.conversations.create({ name: 'ok_name-1' })).resolves.toMatchObject({ ok: true });
    expect(await slackError(client.conversations.create({ name: 'ok_name-1' }))).toBe('name_taken');
    expect(server.channels.map((c) => c.name)).toEqual(['a'.repeat(80), 'ok_name-1']);
  });
});

describe('conversations.invite / info / archive', () => {
  let channelId: string;
  beforeEach(async () => {
    const res = await client.conversations.create({ name: 'inc' });
    channelId = res.channel?.id ?? '';
  });

  it('invites a comma-separated list of users', async () => {
    const res = await client.conversations.invite({ channel: channelId, users: 'U0SRE001,W0DBA002' });
    expect(res.channel?.id).toBe(channelId);
    expect(server.channels[0]?.members).toEqual([server.botUserId, 'U0SRE001', 'W0DBA002']);
  });

  it('returns the documented invite errors', async () => {
    expect(await slackError(client.conversations.invite({ channel: 'C0NOPE', users: 'U0SRE001' }))).toBe(
      'channel_not_found',
    );
    expect(await slackError(client.conversations.invite({ channel: channelId, users: server.botUserId }))).toBe(
      'cant_invite_self',
    );
    server.removeUser('U0GONE001');
    expect(await slackError(client.conversations.invite({ channel: channelId, users: 'U0SRE001,U0GONE001' }))).toBe(
      'user_not_found',
    );
    expect(await slackError(client.conversations.invite({ channel: channelId, users: 'not-a-user' }))).toBe(
      'user_not_found',
    );
    // Nobody is invited when one invite fails.
    expect(server.channels[0]?.members).toEqual([server.botUserId]);
    await client.conversations.invite({ channel: channelId, users: 'U0SRE001' });
    expect(await slackError(client.conversations.invite({ channel: channelId, users: 'U0SRE001' }))).toBe(
      'already_in_channel',
    );
    // Some already in, some new: the new ones are added.
    await client.conversations.invite({ channel: channelId, users: 'U0SRE001,U0SRE002' });
    expect(server.channels[0]?.members).toEqual([server.botUserId, 'U0SRE001', 'U0SRE002']);
  });

  it('knows only the listed users in strict mode, plus addUser', async () => {
    await server.close();
    server = await startSlackApiServer({ users: ['U0SRE001'] });
    client = clientWith(server.botToken);
    const id = (await client.conversations.create({ name: 'strict' })).channel?.id ?? '';
    expect(await slackError(client.conversations.invite({ channel: id, users: 'U0OTHER01' }))).toBe('user_not_found');
    server.addUser('U0OTHER01');
    await expect(client.conversations.invite({ channel: id, users: 'U0SRE001,U0OTHER01' })).resolves.toMatchObject({
      ok: true,
    });
  });

  it('archives, after which the channel refuses posts and a second archive', async () => {
    await expect(client.conversations.archive({ channel: channelId })).resolves.toMatchObject({ ok: true });
    const info = await client.conversations.info({ channel: channelId });
    expect(info.channel).toMatchObject({ id: channelId, name: 'inc', is_archived: true });
    expect(await slackError(client.conversations.archive({ channel: channelId }))).toBe('already_archived');
    expect(await slackError(client.chat.postMessage({ channel: channelId, text: 'x' }))).toBe('is_archived');
    expect(await slackError(client.conversations.info({ channel: 'C0NOPE' }))).toBe('channel_not_found');
  });
});

describe('chat.postMessage / chat.update / chat.postEphemeral', () => {
  let channelId: string;
  beforeEach(async () => {
    channelId = (await client.conversations.create({ name: 'inc' })).channel?.id ?? '';
  });

  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
  const header = (text: string) => ({ type: 'header', text: { type: 'plain_text', text } });

  it('posts, with unique increasing ts, and decodes blocks back into objects', async () => {
    const blocks = [header('Rollback'), section('*orders-api*')];
    const first = await client.chat.postMessage({ channel: channelId, text: 'Rollback', blocks });
    const reply = await client.chat.postMessage({ channel: channelId, text: 'step 1', thread_ts: first.ts });
    expect(first.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(reply.ts)).toBeGreaterThan(Number(first.ts));
    expect(first.message).toMatchObject({ type: 'message', text: 'Rollback', user: server.botUserId, blocks });
    expect(server.callsTo('chat.postMessage')[0]?.args.blocks).toEqual(blocks);
    expect(server.messages(channelId)).toEqual([
      { channel: channelId, ts: first.ts, text: 'Rollback', blocks, user: server.botUserId },
      { channel: channelId, ts: reply.ts, text: 'step 1', blocks: [], thread_ts: first.ts, user: server.botUserId },
    ]);
  });

  it('returns channel_not_found, not_in_channel and no_text', async () => {
    expect(await slackError(client.chat.postMessage({ channel: 'C0NOPE', text: 'x' }))).toBe('channel_not_found');
    const other = server.addChannel({ name: 'elsewhere', members: ['U0SRE001'], botIsMember: false });
    expect(await slackError(client.chat.postMessage({ channel: other.id, text: 'x' }))).toBe('not_in_channel');
    expect(await slackError(client.chat.postMessage({ channel: channelId, text: '' }))).toBe('no_text');
    expect(server.messages()).toEqual([]);
  });

  it('enforces the Block Kit limits with invalid_blocks and json-pointer errors', async () => {
    const post = (blocks: unknown[]) =>
      client.chat.postMessage({ channel: channelId, text: 'x', blocks: blocks as never });
    await expect(post(Array.from({ length: 50 }, () => ({ type: 'divider' })))).resolves.toMatchObject({ ok: true });
    expect(await slackError(post(Array.from({ length: 51 }, () => ({ type: 'divider' }))))).toBe('invalid_blocks');
    await expect(post([section('s'.repeat(3000))])).resolves.toMatchObject({ ok: true });
    expect(await slackError(post([section('s'.repeat(3001))]))).toBe('invalid_blocks');
    await expect(post([header('h'.repeat(150))])).resolves.toMatchObject({ ok: true });
    expect(await slackError(post([header('h'.repeat(151))]))).toBe('invalid_blocks');
    expect(await slackError(post([{ type: 'header', text: { type: 'mrkdwn', text: '*no*' } }]))).toBe('invalid_blocks');

    const err = await post([header('ok'), section('')]).catch((e: { data: { errors: string[] } }) => e.data);
    expect(err).toMatchObject({
      error: 'invalid_blocks',
      errors: ['must be more than 0 characters [json-pointer:/blocks/1/text/text]'],
    });
  });

  it('updates a message, keeping blocks when omitted, and reports message_not_found', async () => {
    const { ts } = await client.chat.postMessage({ channel: channelId, text: 'v1', blocks: [section('one')] });
    const res = await client.chat.update({ channel: channelId, ts: ts ?? '', text: 'v2' });
    expect(res).toMatchObject({ ok: true, channel: channelId, ts, text: 'v2' });
    expect(server.messages(channelId)[0]).toMatchObject({ text: 'v2', blocks: [section('one')] });
    await client.chat.update({ channel: channelId, ts: ts ?? '', text: 'v3', blocks: [section('three')] });
    expect(server.messages(channelId)[0]).toMatchObject({ text: 'v3', blocks: [section('three')] });
    expect(server.messages(channelId)).toHaveLength(1);

    expect(await slackError(client.chat.update({ channel: channelId, ts: '1.000001', text: 'x' }))).toBe(
      'message_not_found',
    );
    expect(await slackError(client.chat.update({ channel: 'C0NOPE', ts: ts ?? '', text: 'x' }))).toBe(
      'channel_not_found',
    );
    expect(
      await slackError(
        client.chat.update({ channel: channelId, ts: ts ?? '', text: 'x', blocks: [section('s'.repeat(3001))] }),
      ),
    ).toBe('invalid_blocks');
  });

  it('posts ephemerals only to members', async () => {
    await client.conversations.invite({ channel: channelId, users: 'U0SRE001' });
    const res = await client.chat.postEphemeral({ channel: channelId, user: 'U0SRE001', text: 'only you' });
    expect(res.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(server.ephemerals).toEqual([
      expect.objectContaining({ channel: channelId, user: 'U0SRE001', text: 'only you' }),
    ]);
    expect(await slackError(client.chat.postEphemeral({ channel: channelId, user: 'U0SRE009', text: 'x' }))).toBe(
      'user_not_in_channel',
    );
    expect(await slackError(client.chat.postEphemeral({ channel: 'C0NOPE', user: 'U0SRE001', text: 'x' }))).toBe(
      'channel_not_found',
    );
    expect(server.messages()).toEqual([]);
  });
});

describe('file uploads', () => {
  it('round-trips WebClient.filesUploadV2 into a thread', async () => {
    const channelId = (await client.conversations.create({ name: 'inc' })).channel?.id ?? '';
    const { ts } = await client.chat.postMessage({ channel: channelId, text: 'report' });
    const content = 'Triage report\nline 2 ✓\n';
    const res = await client.filesUploadV2({
      channel_id: channelId,
      thread_ts: ts ?? '',
      filename: 'triage.md',
      title: 'Triage',
      content,
    });
    expect(res.ok).toBe(true);
    expect(server.uploadedFiles).toEqual([
      expect.objectContaining({
        filename: 'triage.md',
        title: 'Triage',
        channel_id: channelId,
        thread_ts: ts,
        content,
        length: Buffer.byteLength(content),
        completed: true,
      }),
    ]);
    expect(server.callsTo('files.completeUploadExternal')[0]?.args.files).toEqual([
      expect.objectContaining({ id: server.uploadedFiles[0]?.id, title: 'Triage' }),
    ]);
  });

  it('answers file_not_found when completing a file whose bytes never arrived', async () => {
    const { file_id } = await client.files.getUploadURLExternal({ filename: 'x.txt', length: 3 });
    expect(await slackError(client.files.completeUploadExternal({ files: [{ id: file_id ?? '' }] }))).toBe(
      'file_not_found',
    );
    expect(await slackError(client.files.completeUploadExternal({ files: [{ id: 'F0NOPE' }] }))).toBe('file_not_found');
  });
});

describe('test controls', () => {
  it('failNext fails exactly the next call of that method, changing nothing', async () => {
    server.failNext('conversations.create', 'restricted_action');
    expect(await slackError(client.conversations.create({ name: 'inc' }))).toBe('restricted_action');
    expect(server.channels).toEqual([]);
    await expect(client.conversations.create({ name: 'inc' })).resolves.toMatchObject({ ok: true });
  });

  it('waitForCall resolves for past and future calls', async () => {
    await client.auth.test();
    await expect(server.waitForCall('auth.test')).resolves.toMatchObject({ method: 'auth.test', ok: true });
    const waiting = server.waitForCall('conversations.create', (c) => c.args.name === 'later', 2000);
    await client.conversations.create({ name: 'sooner' });
    await client.conversations.create({ name: 'later' });
    await expect(waiting).resolves.toMatchObject({ args: { name: 'later' } });
  });

  it('waitForCall times out with the calls it did see', async () => {
    await client.auth.test();
    await slackError(client.conversations.create({ name: 'Bad' }));
    const started = Date.now();
    await expect(server.waitForCall('chat.postMessage', undefined, 150)).rejects.toThrow(
      /no chat\.postMessage call within 150 ms\. Calls seen: auth\.test ×1, conversations\.create ×1 \(1 failed: invalid_name_specials\)/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('records response_url POSTs and enforces the five uses', async () => {
    const url = server.responseUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/response\/\w+$/);
    const waiting = server.waitForResponse((r) => r.body.text === 'second', 2000);
    const post = (body: unknown) =>
      fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const first = await post({ text: 'first', response_type: 'ephemeral' });
    expect([first.status, await first.text()]).toEqual([200, 'ok']);
    await post({ text: 'second', replace_original: true });
    await expect(waiting).resolves.toMatchObject({ body: { text: 'second', replace_original: true }, status: 200 });
    expect((await post({})).status).toBe(400);
    await post({ delete_original: true });
    await post({ text: 'fifth' });
    const sixth = await post({ text: 'sixth' });
    expect([sixth.status, await sixth.text()]).toEqual([404, 'used_url']);
    expect(server.responses.map((r) => r.status)).toEqual([200, 200, 400, 200, 200, 404]);
  });
});

describe('signSlackRequest and the request builders', () => {
  // The worked example of docs.slack.dev/authentication/verifying-requests-from-slack.
  const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
  const DOC_TS = 1531420618;
  const DOC_BODY =
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
  const DOC_SIG = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

  it("reproduces Slack's documented signature", () => {
    expect(signSlackRequest(DOC_BODY, DOC_SECRET, DOC_TS)).toEqual({
      'X-Slack-Signature': DOC_SIG,
      'X-Slack-Request-Timestamp': '1531420618',
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    const recomputed = createHmac('sha256', 'another-secret').update('v0:1700000000:a=b').digest('hex');
    expect(signSlackRequest('a=b', 'another-secret', 1700000000)['X-Slack-Signature']).toBe(`v0=${recomputed}`);
  });

  it("form-encodes exactly like Slack's documented slash command body", () => {
    const fields = Object.fromEntries(new URLSearchParams(DOC_BODY));
    expect(formEncode(fields)).toBe(DOC_BODY);
  });

  it('fills every slash command field Slack sends', () => {
    const body = new URLSearchParams(
      slashCommandBody({ text: 'rollback orders-api 2024_11_20', user_id: 'U0SRE001', response_url: 'http://x/r' }),
    );
    expect([...body.keys()]).toEqual([
      'token',
      'team_id',
      'team_domain',
      'channel_id',
      'channel_name',
      'user_id',
      'user_name',
      'command',
      'text',
      'api_app_id',
      'is_enterprise_install',
      'response_url',
      'trigger_id',
    ]);
    expect(body.get('command')).toBe('/migrate');
    expect(body.get('text')).toBe('rollback orders-api 2024_11_20');
    expect(body.get('trigger_id')).toMatch(/^\d+\.\d+\.[0-9a-f]{32}$/);
    const signed = signSlackRequest(body.toString(), 'shh', 1700000000);
    expect(
      isValidSlackRequest({
        signingSecret: 'shh',
        body: body.toString(),
        headers: {
          'x-slack-signature': signed['X-Slack-Signature'],
          'x-slack-request-timestamp': 1700000000,
        },
        nowMilliseconds: 1700000000 * 1000,
      }),
    ).toBe(true);
  });
});

describe('a real Bolt app against both halves', () => {
  const SECRET = 'test-signing-secret';
  let app: App;
  let eventsUrl: string;

  async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
  }

  beforeEach(async () => {
    app = new App({
      token: server.botToken,
      signingSecret: SECRET,
      clientOptions: { slackApiUrl: server.apiUrl, retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
    });
    app.command('/migrate', async ({ ack, respond, client: c, command }) => {
      await ack();
      await respond({ text: `heard: ${command.text}`, response_type: 'ephemeral' });
      await c.chat.postMessage({ channel: command.channel_id, text: `from ${command.user_id}` });
    });
    app.action('approve', async ({ ack, respond, body, action }) => {
      await ack();
      const value = action.type === 'button' ? action.value : '';
      await respond({ text: `approved ${value} by ${body.user.id}`, replace_original: false });
    });
    const port = await freePort();
    await app.start(port);
    eventsUrl = `http://127.0.0.1:${port}/slack/events`;
    server.addChannel({ id: 'C0SRE00001', name: 'sre', members: ['U0SRE001'] });
  });

  afterEach(async () => {
    await app.stop();
  });

  it('accepts a signed slash command and answers through the stand-in', async () => {
    const responseUrl = server.responseUrl('cmd');
    const res = await postSlashCommand(eventsUrl, SECRET, {
      text: 'rollback orders-api',
      user_id: 'U0SRE001',
      response_url: responseUrl,
    });
    expect(res.status).toBe(200);
    await expect(server.waitForResponse((r) => r.key === 'cmd')).resolves.toMatchObject({
      body: { text: 'heard: rollback orders-api', response_type: 'ephemeral' },
    });
    const posted = await server.waitForCall('chat.postMessage');
    expect(posted).toMatchObject({ ok: true, args: { channel: 'C0SRE00001', text: 'from U0SRE001' } });
  });

  it('accepts a signed block_actions payload', async () => {
    const res = await postBlockActions(eventsUrl, SECRET, {
      user_id: 'U0DBA001',
      action_id: 'approve',
      value: 'inc-42',
      channel_id: 'C0SRE00001',
      message_ts: '1732170000.000100',
      response_url: server.responseUrl('act'),
    });
    expect(res.status).toBe(200);
    await expect(server.waitForResponse((r) => r.key === 'act')).resolves.toMatchObject({
      body: { text: 'approved inc-42 by U0DBA001' },
    });
  });

  it('is refused by Bolt with a bad, missing or stale signature', async () => {
    const fields = { text: 'x', user_id: 'U0SRE001', response_url: server.responseUrl() };
    expect((await postSlashCommand(eventsUrl, SECRET, fields, { signature: 'bad' })).status).toBe(401);
    expect((await postSlashCommand(eventsUrl, SECRET, fields, { signature: 'missing' })).status).toBe(401);
    const stale = Math.floor(Date.now() / 1000) - 10 * 60;
    expect((await postSlashCommand(eventsUrl, SECRET, fields, { timestampSec: stale })).status).toBe(401);
    expect(server.responses).toEqual([]);
  });
});

describe('transport faults (fault injection)', () => {
  it('answers 503, 429 with Retry-After, and dropped connections, N times, then recovers', async () => {
    const channel = (await client.conversations.create({ name: 'faulty' })).channel?.id ?? '';
    server.fault('chat.postMessage', { status: 503 }, 2);
    server.fault('chat.postMessage', { status: 429, retryAfterSec: 7 });
    server.fault('chat.postMessage', { network: true });
    expect(server.faultsLeft('chat.postMessage')).toBe(4);
    const limited = new webApi.WebClient(server.botToken, {
      slackApiUrl: server.apiUrl,
      retryConfig: { retries: 0 },
      logger: quietLogger,
      rejectRateLimitedCalls: true,
    });

    for (let i = 0; i < 2; i++) {
      await expect(limited.chat.postMessage({ channel, text: 'x' })).rejects.toMatchObject({
        code: 'slack_webapi_http_error',
        statusCode: 503,
      });
    }
    await expect(limited.chat.postMessage({ channel, text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_rate_limited_error',
      retryAfter: 7,
    });
    await expect(limited.chat.postMessage({ channel, text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_request_error',
    });
    expect(server.messages(channel)).toEqual([]); // nothing was posted by a faulted call

    await limited.chat.postMessage({ channel, text: 'after the outage' });
    expect(server.messages(channel).map((m) => m.text)).toEqual(['after the outage']);
    expect(server.callsTo('chat.postMessage').map((c) => c.error ?? 'ok')).toEqual([
      'http_503',
      'http_503',
      'http_429',
      'network',
      'ok',
    ]);
  });
});

describe('lost answers and conversations.history', () => {
  it('carries out a call whose answer it then drops, and lists messages newest first with metadata on request', async () => {
    const channel = (await client.conversations.create({ name: 'lost' })).channel?.id ?? '';
    server.fault('chat.postMessage', { answerLost: true });
    const metadata = { event_type: 'migrate_bot_notice', event_payload: { notice_id: 7 } };
    await expect(client.chat.postMessage({ channel, text: 'first', metadata })).rejects.toMatchObject({
      code: 'slack_webapi_request_error',
    });
    await client.chat.postMessage({ channel, text: 'second' });
    await client.chat.postMessage({ channel, text: 'reply', thread_ts: server.messages(channel)[0]!.ts });
    expect(server.callsTo('chat.postMessage').map((c) => c.error ?? 'ok')).toEqual(['answer_lost', 'ok', 'ok']);

    const plain = await client.conversations.history({ channel });
    expect(plain.messages?.map((m) => m.text)).toEqual(['second', 'first']); // thread replies are not listed
    expect((plain.messages![1] as { metadata?: unknown }).metadata).toBeUndefined();
    const withMeta = await client.conversations.history({ channel, include_all_metadata: true, limit: 1 });
    expect(withMeta.messages?.map((m) => m.text)).toEqual(['second']);
    const all = await client.conversations.history({ channel, include_all_metadata: true });
    expect((all.messages![1] as { metadata?: unknown }).metadata).toEqual(metadata);
    expect(await slackError(client.conversations.history({ channel: 'C0NOPE' }))).toBe('channel_not_found');
  });
});
