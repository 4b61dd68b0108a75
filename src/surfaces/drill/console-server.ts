import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { blocksToHtml, escapeHtml, mrkdwnToHtml, type NameLookup } from './block-kit-html.js';
import { CONSOLE_PAGE } from './console-page.js';
import { consoleRequestRefusal } from './console-guard.js';
import { DRILL_BOT_USER, DRILL_USERS, DrillWorkspace, decodeApiArgs, type DrillMessage } from './drill-workspace.js';
import {
  formEncode,
  postSignedToApp,
  postSlashCommand,
  blockActionsPayload,
  postViewSubmission,
  FORM_CONTENT_TYPE,
} from './slack-requests.js';

/** What the console shows in its banner: which database the drill runs on. */
export interface DrillInfo {
  service: string;
  database: string;
  migration: string;
}

/** A started console: the workspace it plays, its URL, and where the bot's Web API calls go. */
export interface DrillConsole {
  workspace: DrillWorkspace;
  url: string;
  /** `SLACK_API_URL` for the bot. */
  slackApiUrl: string;
  signingSecret: string;
  /** Tells the console where the bot's Bolt receiver listens (`http://127.0.0.1:<port>/slack/events`). */
  connect(eventsUrl: string): void;
  close(): Promise<void>;
}

/** Only the drill's cast may act: the console is not a way to send the bot requests as anyone. */
const CastMember = z.enum(DRILL_USERS.map((u) => u.id) as [string, ...string[]], {
  error: `act as one of the drill's people: ${DRILL_USERS.map((u) => u.name).join(', ')}`,
});

const CommandBody = z.object({
  user: CastMember,
  text: z.string().max(2000),
  channel: z.string().max(40).optional(),
});
const ActionBody = z.object({
  user: CastMember,
  actionId: z.string().max(255),
  value: z.string().max(2000),
  channel: z.string().max(40),
  ts: z.string().max(40),
});
const ViewBody = z.object({
  user: CastMember,
  viewId: z.string().max(40),
  values: z.record(z.string(), z.record(z.string(), z.string().max(3000))),
  cancel: z.boolean().optional(),
});

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 5 * 1024 * 1024) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

/**
 * Serves the drill console at `http://localhost:<port>/`: a channel view of the drill
 * workspace rendering the bot's Block Kit as HTML, a command box and working buttons that
 * send the bot the signed requests Slack would send (slash command, `block_actions`,
 * `view_submission`), a picker to act as each person of the drill, and the Web API the bot
 * talks to (`/slack/api/<method>`), its response_url replies and file uploads.
 */
export async function startDrillConsole(options: {
  port: number;
  info: DrillInfo;
  host?: string;
}): Promise<DrillConsole> {
  let origin = '';
  let port = 0;
  let eventsUrl: string | null = null;
  const signingSecret = randomBytes(16).toString('hex');
  const workspace = new DrillWorkspace(() => origin);
  const names: NameLookup = {
    channel: (id) => workspace.channels.find((c) => c.id === id)?.name,
    user: (id) => DRILL_USERS.find((u) => u.id === id)?.name ?? (id === DRILL_BOT_USER ? 'migrate-bot' : undefined),
  };

  const messageHtml = (m: DrillMessage, pinned = false): string => {
    const body = m.blocks.length
      ? blocksToHtml(m.blocks, names, { channel: m.channel, ts: m.ts })
      : `<div class="block section">${mrkdwnToHtml(m.text, names)}</div>`;
    const file = m.file
      ? `<div class="file">📄 <a href="/files/${escapeHtml(m.file.id)}" target="_blank">${escapeHtml(m.file.title)}</a></div>`
      : '';
    const time = new Date(Number(m.ts.split('.')[0]) * 1000).toISOString().slice(11, 19);
    return `<div class="message${pinned ? ' pinned' : ''}" data-ts="${escapeHtml(m.ts)}"><div class="meta">${pinned ? '<span class="pin">📌 Pinned</span> ' : ''}<b>migrate-bot</b> <span class="time">${time} UTC</span>${m.edited ? ' <span class="edited">(edited)</span>' : ''}</div>${body}${file}</div>`;
  };

  /** A channel as Slack lays it out: top-level messages, pinned ones marked, threads collapsed to "n replies". */
  const channelHtml = (channelId: string): string => {
    const all = workspace.messages.filter((m) => m.channel === channelId);
    const pins = new Set(workspace.channels.find((c) => c.id === channelId)?.pinned ?? []);
    return all
      .filter((m) => !m.threadTs)
      .map((m) => {
        const replies = all.filter((r) => r.threadTs === m.ts);
        const thread = replies.length
          ? `<details class="thread" data-thread="${escapeHtml(m.ts)}"><summary>${replies.length} repl${replies.length === 1 ? 'y' : 'ies'}</summary>${replies.map((r) => messageHtml(r)).join('')}</details>`
          : '';
        return `${messageHtml(m, pins.has(m.ts))}${thread}`;
      })
      .join('');
  };

  const state = (user: string, channelId: string | undefined) => {
    const channel = workspace.channels.find((c) => c.id === channelId) ?? workspace.channels.at(-1);
    const view = [...workspace.views].reverse().find((v) => v.user === user);
    const modal = view
      ? {
          id: view.id,
          title: String((view.view.title as { text?: string })?.text ?? ''),
          submit: String((view.view.submit as { text?: string })?.text ?? 'Submit'),
          close: String((view.view.close as { text?: string })?.text ?? 'Cancel'),
          html: blocksToHtml((view.view.blocks as unknown[]) ?? [], names, { channel: '', ts: '' }),
          errors: view.errors ?? {},
        }
      : null;
    return {
      drill: options.info,
      connected: eventsUrl !== null,
      users: DRILL_USERS,
      channels: workspace.channels.map((c) => ({
        id: c.id,
        name: c.name,
        topic: c.topic,
        archived: c.archived,
        bookmarks: c.bookmarks,
      })),
      channel: channel
        ? { id: channel.id, name: channel.name, topic: channel.topic, html: channelHtml(channel.id) }
        : null,
      ephemerals: workspace.ephemerals
        .filter((e) => e.user === user)
        .slice(-8)
        .map((e) =>
          e.blocks.length ? blocksToHtml(e.blocks, names, { channel: '', ts: '' }) : mrkdwnToHtml(e.text, names),
        ),
      modal,
    };
  };

  const requireBot = (): string => {
    if (!eventsUrl) throw new Error('the bot is still starting');
    return eventsUrl;
  };

  const route = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const refused = consoleRequestRefusal(req, port);
    if (refused) return send(res, refused.status, { error: refused.error });
    const url = new URL(req.url ?? '/', origin);
    const path = url.pathname;
    if (req.method === 'GET' && path === '/') return send(res, 200, CONSOLE_PAGE, 'text/html; charset=utf-8');
    if (req.method === 'GET' && path === '/api/state')
      return send(
        res,
        200,
        state(url.searchParams.get('user') ?? DRILL_USERS[0]!.id, url.searchParams.get('channel') ?? undefined),
      );
    if (req.method === 'GET' && path.startsWith('/files/')) {
      const f = workspace.files.get(path.slice('/files/'.length));
      // Markdown (the timeline) as its text, readable in the browser as Slack's file preview is.
      return f ? send(res, 200, f.content, 'text/plain; charset=utf-8') : send(res, 404, { error: 'no such file' });
    }
    const body = await readBody(req);
    const raw = body.toString('utf8');
    if (req.method === 'POST' && path.startsWith('/slack/api/')) {
      const token = req.headers.authorization?.replace(/^Bearer\s+/i, '');
      const args = decodeApiArgs(req.headers['content-type'], raw);
      return send(
        res,
        200,
        workspace.call(path.slice('/slack/api/'.length), args, token ?? (args.token as string | undefined)),
      );
    }
    if (path.startsWith('/slack/upload/'))
      return send(
        res,
        workspace.upload(path.slice('/slack/upload/'.length), await uploadedContent(body, req.headers['content-type']))
          ? 200
          : 404,
        'OK',
        'text/plain',
      );
    if (req.method === 'POST' && path.startsWith('/slack/response/')) {
      const body = JSON.parse(raw || '{}') as { text?: string; blocks?: unknown[] };
      workspace.ephemerals.push({
        user: url.searchParams.get('user') ?? '',
        text: body.text ?? '',
        blocks: body.blocks ?? [],
        at: Date.now(),
      });
      return send(res, 200, { ok: true });
    }
    if (req.method === 'POST' && path === '/api/command') {
      const cmd = CommandBody.parse(JSON.parse(raw));
      const text = cmd.text.trim().replace(/^\/migrate\b\s*/, '');
      workspace.ephemerals.push({ user: cmd.user, text: `\`/migrate ${text}\``, blocks: [], at: Date.now() });
      const result = await postSlashCommand(requireBot(), signingSecret, {
        text,
        user_id: cmd.user,
        response_url: `${origin}/slack/response/${randomBytes(6).toString('hex')}?user=${cmd.user}`,
        channel_id: cmd.channel ?? 'C0DRILLSRE',
      });
      return send(res, result.status === 200 ? 200 : 502, { status: result.status });
    }
    if (req.method === 'POST' && path === '/api/action') {
      const a = ActionBody.parse(JSON.parse(raw));
      const trigger = `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(16).toString('hex')}`;
      workspace.triggers.set(trigger, a.user);
      const message = workspace.messages.find((m) => m.channel === a.channel && m.ts === a.ts);
      const payload = blockActionsPayload({
        user_id: a.user,
        action_id: a.actionId,
        value: a.value,
        channel_id: a.channel,
        message_ts: a.ts,
        response_url: `${origin}/slack/response/${randomBytes(6).toString('hex')}?user=${a.user}`,
        trigger_id: trigger,
        message_blocks: message?.blocks ?? [],
        message_text: message?.text ?? '',
      });
      const result = await postSignedToApp(
        requireBot(),
        signingSecret,
        formEncode({ payload: JSON.stringify(payload) }),
        FORM_CONTENT_TYPE,
      );
      return send(res, result.status === 200 ? 200 : 502, { status: result.status });
    }
    if (req.method === 'POST' && path === '/api/view') {
      const v = ViewBody.parse(JSON.parse(raw));
      const open = workspace.views.find((x) => x.id === v.viewId && x.user === v.user);
      if (!open) return send(res, 404, { error: 'no such modal' });
      if (v.cancel) {
        workspace.views.splice(workspace.views.indexOf(open), 1);
        return send(res, 200, { closed: true });
      }
      const result = await postViewSubmission(requireBot(), signingSecret, {
        user_id: v.user,
        view: open.view as Record<string, unknown> & { id: string },
        values: v.values,
      });
      const answer = result.body
        ? (JSON.parse(result.body) as { response_action?: string; errors?: Record<string, string> })
        : {};
      if (answer.response_action === 'errors') open.errors = answer.errors ?? {};
      else workspace.views.splice(workspace.views.indexOf(open), 1);
      return send(res, 200, { status: result.status, ...(answer.errors ? { errors: answer.errors } : {}) });
    }
    send(res, 404, { error: 'not found' });
  };

  const server = http.createServer((req, res) => {
    route(req, res).catch((err: unknown) =>
      send(res, err instanceof z.ZodError ? 400 : 500, { error: err instanceof Error ? err.message : String(err) }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  // The bot is given 127.0.0.1 (localhost may resolve to ::1 first, where nothing listens); people get localhost.
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    workspace,
    url: `http://localhost:${port}/`,
    slackApiUrl: `${origin}/slack/api/`,
    signingSecret,
    connect(url) {
      eventsUrl = url;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The file's bytes from an upload to the URL `files.getUploadURLExternal` gave out: the SDK
 * posts it as multipart/form-data (parsed with the platform's own `Response.formData()`), or as
 * the raw body.
 */
async function uploadedContent(body: Buffer, contentType: string | undefined): Promise<Buffer> {
  if (!contentType?.startsWith('multipart/form-data')) return body;
  const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  for (const value of form.values()) if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
  return body;
}
