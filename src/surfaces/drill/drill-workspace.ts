import { randomBytes } from 'node:crypto';

/**
 * The drill's Slack workspace, in memory: the Web API methods migrate-bot calls, answered the
 * way Slack answers them (docs.slack.dev method references: `ok`, `error`, the fields the bot
 * reads), and what people see — channels, messages and threads, ephemeral replies, open modals
 * and uploaded files. The console renders it; nothing leaves the machine.
 */

type Json = Record<string, unknown>;

/** A person in the drill, with the role the console shows next to them. */
export interface DrillUser {
  id: string;
  name: string;
  role: string;
}

/** The drill's cast: the on-call engineer, two approvers (services.yaml's) and a stakeholder. */
export const DRILL_USERS: readonly DrillUser[] = [
  { id: 'U0DRILLONC', name: 'dana', role: 'on-call engineer' },
  { id: 'U0DRILLSRE', name: 'sam', role: 'SRE approver' },
  { id: 'U0DRILLOWN', name: 'omar', role: 'migration owner, approver' },
  { id: 'U0DRILLPM1', name: 'pat', role: 'stakeholder' },
];

/** The bot's own user in the drill workspace (what `auth.test` answers). */
export const DRILL_BOT_USER = 'U0DRILLBOT';

/** A message in a channel (top level or in a thread). */
export interface DrillMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  user: string;
  text: string;
  blocks: unknown[];
  edited?: boolean;
  /** A file posted with the message (files.completeUploadExternal). */
  file?: { id: string; title: string };
}

/** A channel of the drill workspace: its members, topic, pinned message timestamps and bookmarks. */
export interface DrillChannel {
  id: string;
  name: string;
  topic: string;
  members: string[];
  pinned: string[];
  bookmarks: Array<{ title: string; link: string }>;
  archived: boolean;
}

/** An answer only its user sees: a response_url reply or chat.postEphemeral. */
export interface DrillEphemeral {
  user: string;
  text: string;
  blocks: unknown[];
  at: number;
}

/** A modal opened with views.open for the user whose press carried `triggerId`. */
export interface DrillView {
  id: string;
  user: string;
  view: Json;
  /** Set when the bot answered a submission with `response_action: errors`. */
  errors?: Record<string, string>;
}

class SlackError extends Error {}

const fail = (code: string): never => {
  throw new SlackError(code);
};
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

/** The workspace and its Web API. */
export class DrillWorkspace {
  readonly channels: DrillChannel[] = [];
  readonly messages: DrillMessage[] = [];
  readonly ephemerals: DrillEphemeral[] = [];
  readonly views: DrillView[] = [];
  readonly files = new Map<string, { title: string; content: Buffer }>();
  /** trigger_id → the user who pressed (Slack knows whose press a trigger belongs to). */
  readonly triggers = new Map<string, string>();
  readonly botToken = `xoxb-drill-${randomBytes(8).toString('hex')}`;
  private lastTs = 0;
  private seq = 0;

  constructor(private readonly origin: () => string) {}

  /** Strictly increasing `<unix seconds>.<6 digits>` timestamps, as Slack's message ts. */
  private nextTs(): string {
    this.lastTs = Math.max(this.lastTs + 1, Date.now() * 1000);
    return `${Math.floor(this.lastTs / 1e6)}.${String(this.lastTs % 1e6).padStart(6, '0')}`;
  }

  private channel(id: unknown): DrillChannel {
    const c = this.channels.find((x) => x.id === str(id) || x.name === str(id)?.replace(/^#/, ''));
    if (!c) fail('channel_not_found');
    if (c!.archived) fail('is_archived');
    return c!;
  }

  private message(channel: unknown, ts: unknown): DrillMessage {
    const m = this.messages.find((x) => x.channel === this.channel(channel).id && x.ts === str(ts));
    if (!m) fail('message_not_found');
    return m!;
  }

  /** Runs one Web API method with its (already decoded) arguments; a Slack error answers `{ ok: false, error }`. */
  call(method: string, args: Json, token: string | undefined): Json {
    if (token !== this.botToken) return { ok: false, error: token ? 'invalid_auth' : 'not_authed' };
    const handler = this.methods[method];
    if (!handler) return { ok: false, error: 'unknown_method' };
    try {
      return { ok: true, ...handler(args) };
    } catch (err) {
      if (err instanceof SlackError) return { ok: false, error: err.message };
      throw err;
    }
  }

  /** Stores a file uploaded to the URL files.getUploadURLExternal gave out. */
  upload(id: string, content: Buffer): boolean {
    const f = this.files.get(id);
    if (!f) return false;
    f.content = content;
    return true;
  }

  private readonly methods: Record<string, (a: Json) => Json> = {
    'auth.test': () => ({
      user_id: DRILL_BOT_USER,
      user: 'migrate-bot',
      team: 'Drill',
      team_id: 'T0DRILL001',
      url: `${this.origin()}/`,
      bot_id: 'B0DRILLBOT',
    }),
    'conversations.create': (a) => {
      const name = str(a.name) ?? '';
      if (!/^[a-z0-9_-]{1,80}$/.test(name)) fail('invalid_name_specials');
      if (this.channels.some((c) => c.name === name)) fail('name_taken');
      const c: DrillChannel = {
        id: `C0DRILL${String(++this.seq).padStart(4, '0')}`,
        name,
        topic: '',
        members: [DRILL_BOT_USER],
        pinned: [],
        bookmarks: [],
        archived: false,
      };
      this.channels.push(c);
      return {
        channel: { id: c.id, name: c.name, is_channel: true, is_member: true, created: Math.floor(Date.now() / 1000) },
      };
    },
    'conversations.invite': (a) => {
      const c = this.channel(a.channel);
      for (const u of String(a.users ?? '')
        .split(',')
        .filter(Boolean))
        if (!c.members.includes(u)) c.members.push(u);
      return { channel: { id: c.id, name: c.name } };
    },
    'conversations.info': (a) => {
      const c = this.channel(a.channel);
      return { channel: { id: c.id, name: c.name, is_member: true, topic: { value: c.topic } } };
    },
    'conversations.setTopic': (a) => {
      const c = this.channel(a.channel);
      c.topic = str(a.topic) ?? '';
      return { channel: { id: c.id, topic: { value: c.topic } } };
    },
    'conversations.archive': (a) => {
      this.channel(a.channel).archived = true;
      return {};
    },
    'conversations.history': (a) => {
      const c = this.channel(a.channel);
      const top = this.messages.filter((m) => m.channel === c.id && !m.threadTs).reverse();
      return {
        messages: top.slice(0, Number(a.limit ?? 100)).map((m) => ({
          type: 'message',
          ts: m.ts,
          user: m.user,
          bot_id: 'B0DRILLBOT',
          text: m.text,
          blocks: m.blocks,
        })),
        has_more: false,
      };
    },
    'conversations.replies': (a) => {
      const c = this.channel(a.channel);
      const ts = str(a.ts);
      const thread = this.messages.filter((m) => m.channel === c.id && (m.ts === ts || m.threadTs === ts));
      return {
        messages: thread.map((m) => ({
          type: 'message',
          ts: m.ts,
          thread_ts: m.threadTs ?? m.ts,
          user: m.user,
          bot_id: 'B0DRILLBOT',
          text: m.text,
          blocks: m.blocks,
        })),
        has_more: false,
      };
    },
    'chat.postMessage': (a) => {
      const c = this.channel(a.channel);
      const m: DrillMessage = {
        channel: c.id,
        ts: this.nextTs(),
        user: DRILL_BOT_USER,
        text: str(a.text) ?? '',
        blocks: (a.blocks as unknown[]) ?? [],
      };
      const thread = str(a.thread_ts);
      if (thread) m.threadTs = thread;
      this.messages.push(m);
      return { channel: c.id, ts: m.ts, message: { ts: m.ts, text: m.text } };
    },
    'chat.update': (a) => {
      const m = this.message(a.channel, a.ts);
      if (a.text !== undefined) m.text = str(a.text) ?? '';
      if (a.blocks !== undefined) m.blocks = (a.blocks as unknown[]) ?? [];
      m.edited = true;
      return { channel: m.channel, ts: m.ts, text: m.text };
    },
    'chat.postEphemeral': (a) => {
      this.channel(a.channel);
      this.ephemerals.push({
        user: str(a.user) ?? '',
        text: str(a.text) ?? '',
        blocks: (a.blocks as unknown[]) ?? [],
        at: Date.now(),
      });
      return { message_ts: this.nextTs() };
    },
    'chat.getPermalink': (a) => {
      const m = this.message(a.channel, a.message_ts);
      return { channel: m.channel, permalink: `${this.origin()}/#${m.channel}/${m.ts}` };
    },
    'pins.add': (a) => {
      const m = this.message(a.channel, a.timestamp);
      const c = this.channel(m.channel);
      if (c.pinned.includes(m.ts)) fail('already_pinned');
      c.pinned.push(m.ts);
      return {};
    },
    'bookmarks.add': (a) => {
      const c = this.channel(a.channel_id);
      c.bookmarks.push({ title: str(a.title) ?? '', link: str(a.link) ?? '' });
      return { bookmark: { id: `Bk${++this.seq}`, channel_id: c.id, title: str(a.title), link: str(a.link) } };
    },
    'usergroups.users.list': () => fail('no_such_subteam'),
    // Roles go to the cast only (`/migrate role comms @pat`).
    'users.info': (a) => {
      const user = DRILL_USERS.find((u) => u.id === a.user);
      if (!user) return fail('user_not_found');
      return { ok: true, user: { id: user.id, name: user.name, deleted: false, is_bot: false } };
    },
    'views.open': (a) => {
      const user = this.triggers.get(str(a.trigger_id) ?? '');
      if (!user) fail('invalid_trigger_id');
      this.triggers.delete(str(a.trigger_id)!);
      const id = `V0DRILL${String(++this.seq).padStart(4, '0')}`;
      const view = { ...(a.view as Json), id };
      this.views.push({ id, user: user!, view });
      return { view };
    },
    'files.getUploadURLExternal': (a) => {
      const id = `F0DRILL${String(++this.seq).padStart(4, '0')}`;
      this.files.set(id, { title: str(a.filename) ?? id, content: Buffer.alloc(0) });
      return { upload_url: `${this.origin()}/slack/upload/${id}`, file_id: id };
    },
    'files.completeUploadExternal': (a) => {
      const list = (a.files as Array<{ id: string; title?: string }>) ?? [];
      const channel = str(a.channel_id);
      for (const f of list) {
        const stored = this.files.get(f.id);
        if (!stored) fail('file_not_found');
        stored!.title = f.title ?? stored!.title;
        if (channel) {
          const m: DrillMessage = {
            channel: this.channel(channel).id,
            ts: this.nextTs(),
            user: DRILL_BOT_USER,
            text: str(a.initial_comment) ?? '',
            blocks: [],
            file: { id: f.id, title: stored!.title },
          };
          const thread = str(a.thread_ts);
          if (thread) m.threadTs = thread;
          this.messages.push(m);
        }
      }
      return { files: list.map((f) => ({ id: f.id, title: f.title })) };
    },
  };
}

/** Arguments the Web API client sends JSON-encoded inside a form field. */
const JSON_ARGS = ['blocks', 'attachments', 'files', 'metadata', 'view'];

/**
 * Decodes a Web API request body as @slack/web-api sends it: form-encoded fields (nested
 * values JSON-encoded) or a JSON body.
 */
export function decodeApiArgs(contentType: string | undefined, raw: string): Json {
  const args: Json = contentType?.includes('application/json')
    ? (JSON.parse(raw || '{}') as Json)
    : Object.fromEntries(new URLSearchParams(raw));
  for (const key of JSON_ARGS) {
    if (typeof args[key] === 'string') {
      try {
        args[key] = JSON.parse(args[key] as string);
      } catch {
        /* left as text: the method answers invalid_arguments */
      }
    }
  }
  return args;
}
