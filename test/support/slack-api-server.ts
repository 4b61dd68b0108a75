/**
 * A loopback stand-in for the Slack Web API, for tests.
 *
 * Point Bolt / `WebClient` at it with `slackApiUrl: server.apiUrl`. It implements the Web API
 * methods migrate-bot calls with the response shapes and error strings of Slack's public method
 * reference (docs.slack.dev/reference/methods/<method>), keeps the workspace state those methods
 * change (channels, members, messages, files), and records every call so tests can assert on what
 * the app actually sent.
 *
 * Faithful to Slack, not to our code:
 *  - errors are HTTP 200 with `{ ok: false, error }` (Slack only uses non-200 for rate limits);
 *  - arguments arrive as `application/x-www-form-urlencoded` (object arguments such as `blocks` as
 *    JSON strings), `application/json`, or `multipart/form-data`; the token in an
 *    `Authorization: Bearer` header or a `token` argument;
 *  - channel names follow conversations.create's rules; Block Kit limits are enforced and reported
 *    the way Slack reports them (`invalid_blocks` plus `errors: ["… [json-pointer:/blocks/0/…]"]`);
 *  - file uploads follow the files.getUploadURLExternal → POST bytes → files.completeUploadExternal
 *    flow that `WebClient.filesUploadV2` uses;
 *  - slash command / interaction `response_url`s are served too (see {@link SlackApiServer.responseUrl}).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Options for {@link startSlackApiServer}. */
export interface SlackApiServerOptions {
  /** The bot token the server accepts; any other token is `invalid_auth`. Default `xoxb-test-token`. */
  botToken?: string;
  /** The bot's user ID (`auth.test` `user_id`, creator/member of channels it creates). Default `U0BOT00001`. */
  botUserId?: string;
  /** Workspace ID (`auth.test` `team_id`). Default `T0TEST0001`. */
  teamId?: string;
  /**
   * When given, only these user IDs (plus the bot and those added by `addUser`) exist in the
   * workspace. When omitted, every ID shaped like a Slack user ID (/^[UW][A-Z0-9]+$/) exists,
   * except those removed with `removeUser`.
   */
  users?: string[];
}

/** One Web API call as the server saw it. */
export interface RecordedCall {
  /** Web API method name, e.g. `chat.postMessage`. */
  method: string;
  /**
   * Decoded arguments, without `token`. Form values are strings (as Slack receives them);
   * `blocks`, `attachments`, `files` and `metadata` are JSON-decoded back into objects.
   */
  args: Record<string, unknown>;
  /** The `ok` the server answered. */
  ok: boolean;
  /** The `error` the server answered when `ok` is false. */
  error?: string;
  /** When the call arrived, epoch milliseconds. */
  at: number;
}

/** A message in a channel, as last posted (chat.postMessage) or edited (chat.update). */
export interface PostedMessage {
  /** Channel ID. */
  channel: string;
  /** Message timestamp, Slack's message ID within the channel, e.g. `1732170000.000100`. */
  ts: string;
  /** Top-level `text` (the notification fallback when blocks are present); `''` when absent. */
  text: string;
  /** Block Kit blocks; `[]` when absent. */
  blocks: unknown[];
  /** Parent message `ts` when posted as a thread reply. */
  thread_ts?: string;
  /** Author's user ID (the bot user for messages the app posts). */
  user: string;
  /** Set by chat.update: epoch milliseconds of the last edit. */
  editedAt?: number;
}

/** An ephemeral message (chat.postEphemeral): visible to one user, never stored in the channel. */
export interface EphemeralMessage {
  /** Channel ID. */
  channel: string;
  /** The one user who sees it. */
  user: string;
  /** Top-level text; `''` when absent. */
  text: string;
  /** Block Kit blocks; `[]` when absent. */
  blocks: unknown[];
  /** Thread the message appears in, if any. */
  thread_ts?: string;
  /** `message_ts` the server answered. */
  message_ts: string;
}

/** A channel in the workspace (created through conversations.create or seeded with `addChannel`). */
export interface SlackChannel {
  /** Channel ID, `C…`. */
  id: string;
  /** Channel name without `#`. */
  name: string;
  /** Private channel. */
  is_private: boolean;
  /** User IDs of the members, bot included when it is a member. */
  members: string[];
  /** Creation time, Unix seconds. */
  created: number;
  /** Creator's user ID. */
  creator: string;
  /** Archived by conversations.archive. */
  is_archived: boolean;
  /** Set by conversations.setTopic. */
  topic?: string;
}

/** A POST the app made to a `response_url` handed out by {@link SlackApiServer.responseUrl}. */
export interface ResponseUrlPost {
  /** The key the URL was made with. */
  key: string;
  /** The decoded JSON body (`text`, `blocks`, `response_type`, `replace_original`, `delete_original`, …). */
  body: Record<string, unknown>;
  /** HTTP status the server answered (200, or 4xx with Slack's error text). */
  status: number;
  /** When it arrived, epoch milliseconds. */
  at: number;
}

/** A file sent through the external upload flow. */
export interface UploadedFile {
  /** File ID, `F…`. */
  id: string;
  /** `filename` given to files.getUploadURLExternal. */
  filename: string;
  /** `length` declared to files.getUploadURLExternal, bytes. */
  length: number;
  /** Title given to files.completeUploadExternal (Slack defaults it to the filename). */
  title?: string;
  /** Channel the file was shared to by files.completeUploadExternal. */
  channel_id?: string;
  /** Thread the file was shared to. */
  thread_ts?: string;
  /** `initial_comment` given to files.completeUploadExternal. */
  initial_comment?: string;
  /** The uploaded bytes decoded as UTF-8 (`''` until the bytes arrive). */
  content: string;
  /** Bytes received at the upload URL. */
  uploaded: boolean;
  /** files.completeUploadExternal succeeded for it. */
  completed: boolean;
}

/** The running server. All collections are live views, in arrival order. */
export interface SlackApiServer {
  /** Base URL for `slackApiUrl`, `http://127.0.0.1:<port>/api/` (WebClient appends the method). */
  readonly apiUrl: string;
  /** Origin of the server, `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** The accepted bot token. */
  readonly botToken: string;
  /** The bot's user ID. */
  readonly botUserId: string;
  /** The workspace ID. */
  readonly teamId: string;
  /** Every Web API call, successful or not. */
  readonly calls: RecordedCall[];
  /** Every channel in the workspace. */
  readonly channels: SlackChannel[];
  /** Every ephemeral message. */
  readonly ephemerals: EphemeralMessage[];
  /** Every POST to a response URL. */
  readonly responses: ResponseUrlPost[];
  /** Every file for which an upload URL was handed out. */
  readonly uploadedFiles: UploadedFile[];
  /** Calls to one method. */
  callsTo(method: string): RecordedCall[];
  /**
   * Resolves with the first call to `method` matching `predicate`, already recorded or future.
   * Rejects after `timeoutMs` (default 10 000 ms) with a message listing the calls seen.
   */
  waitForCall(method: string, predicate?: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  /** Messages in the channel (all channels when omitted), in posting order, as last edited. */
  messages(channelId?: string): PostedMessage[];
  /**
   * A URL on this server to use as a slash command's or interaction's `response_url`.
   * `key` defaults to a fresh unique one; the same key gives the same URL.
   */
  responseUrl(key?: string): string;
  /** Like {@link waitForCall}, for POSTs to response URLs. */
  waitForResponse(predicate?: (post: ResponseUrlPost) => boolean, timeoutMs?: number): Promise<ResponseUrlPost>;
  /** The next call to `method` answers `{ ok: false, error }` and changes nothing. Stacks. */
  failNext(method: string, error: string): void;
  /**
   * Transport-level faults for the next `times` calls to `method` (default 1), which change
   * nothing and are recorded with `error` `http_<status>` or `network`:
   *  - `{ status: 503 }` answers that HTTP status with an HTML body, as a load balancer does;
   *  - `{ status: 429, retryAfterSec }` answers Slack's rate limit (`Retry-After` header,
   *    `{ ok: false, error: 'ratelimited' }`, docs.slack.dev "Rate limits");
   *  - `{ network: true }` drops the connection without an answer;
   *  - `{ answerLost: true }` carries the call out, then drops the connection before answering
   *    (the caller cannot know it worked), recorded with `error` `answer_lost`.
   * Stacks after faults already queued for the method.
   */
  fault(method: string, fault: HttpFault, times?: number): void;
  /** Faults still queued for `method`. */
  faultsLeft(method: string): number;
  /** Every channel bookmark (bookmarks.add), in order. */
  readonly bookmarks: Array<{ id: string; channel_id: string; title: string; link: string; emoji: string }>;
  /** Every pinned message (pins.add), in order. */
  readonly pins: Array<{ channel: string; ts: string }>;
  /** Every modal opened with views.open, with its `trigger_id`, in order. */
  readonly views: OpenedView[];
  /** Sets a user group's members (`usergroups.users.list`); an unknown group answers `no_such_subteam`. */
  setUsergroup(id: string, users: string[]): void;
  /** Makes a user ID exist in the workspace. */
  addUser(id: string): void;
  /** Makes a user ID not exist (invites fail with `user_not_found`). */
  removeUser(id: string): void;
  /**
   * Seeds a channel that exists before the test (e.g. where `/migrate` is typed).
   * `members` defaults to the bot only; pass `botIsMember: false` to leave the bot out.
   */
  addChannel(channel: {
    id?: string;
    name: string;
    is_private?: boolean;
    members?: string[];
    botIsMember?: boolean;
  }): SlackChannel;
  /** Stops the server; pending waits reject. */
  close(): Promise<void>;
}

/** A modal opened with views.open. */
export interface OpenedView {
  /** `V…`, as Slack assigns it. */
  id: string;
  trigger_id: string;
  /** The view object as sent (type, callback_id, private_metadata, title, blocks, …). */
  view: Record<string, unknown>;
}

/** A transport-level fault of the stand-in (see {@link SlackApiServer.fault}). */
export type HttpFault = { status: number; retryAfterSec?: number } | { network: true } | { answerLost: true };

/** Slack's documented Block Kit limits we enforce (docs.slack.dev/reference/block-kit/blocks). */
const LIMITS = {
  blocksPerMessage: 50,
  blockId: 255,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  actionId: 255,
  buttonText: 75,
  buttonValue: 2000,
  imageUrl: 3000,
  imageAltText: 2000,
  markdownBlockText: 12000,
  /** chat.postMessage truncates `text` beyond this many characters. */
  messageText: 40000,
  /** A response_url may be used this many times (docs: "up to 5 times within 30 minutes"). */
  responseUrlUses: 5,
} as const;

const BLOCK_TYPES = new Set([
  'actions',
  'context',
  'context_actions',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);

/** Arguments sent as JSON strings inside form bodies, decoded for the record and the handlers. */
const JSON_ARGS = ['blocks', 'attachments', 'files', 'metadata', 'view'] as const;

type Json = Record<string, unknown>;

/** What a method handler answers: a Slack body (`ok` included). */
type MethodResult = Json & { ok: boolean; error?: string };

class SlackError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Json = {},
  ) {
    super(code);
  }
}

function fail(code: string, extra: Json = {}): never {
  throw new SlackError(code, extra);
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Text of a Block Kit text object, for length checks; undefined when not a text object. */
function textOf(v: unknown): string | undefined {
  return isObject(v) && typeof v.text === 'string' ? v.text : undefined;
}

/**
 * Validates `blocks` against Slack's documented Block Kit limits.
 * Returns Slack-style error lines (`"<problem> [json-pointer:/blocks/<i>/…]"`); empty when valid.
 */
export function blockKitErrors(blocks: unknown[]): string[] {
  const errors: string[] = [];
  const at = (path: string) => `[json-pointer:/blocks${path}]`;
  const checkText = (
    obj: unknown,
    path: string,
    max: number,
    allowed: ReadonlyArray<'plain_text' | 'mrkdwn'> = ['plain_text', 'mrkdwn'],
  ): void => {
    if (!isObject(obj)) {
      errors.push(`must be an object ${at(path)}`);
      return;
    }
    if (typeof obj.type !== 'string' || !(allowed as readonly string[]).includes(obj.type)) {
      errors.push(`must be one of ${allowed.map((t) => `"${t}"`).join(', ')} ${at(`${path}/type`)}`);
    }
    const text = textOf(obj);
    if (text === undefined) errors.push(`must provide a string ${at(`${path}/text`)}`);
    else if (text.length === 0) errors.push(`must be more than 0 characters ${at(`${path}/text`)}`);
    else if (text.length > max) errors.push(`must be less than ${max + 1} characters ${at(`${path}/text`)}`);
  };

  if (blocks.length > LIMITS.blocksPerMessage) {
    errors.push(`no more than ${LIMITS.blocksPerMessage} items allowed ${at('')}`);
  }
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    const p = `/${i}`;
    if (!isObject(block)) {
      errors.push(`must be an object ${at(p)}`);
      return;
    }
    if (typeof block.type !== 'string' || !BLOCK_TYPES.has(block.type)) {
      errors.push(`unsupported type: ${String(block.type)} ${at(`${p}/type`)}`);
      return;
    }
    if (block.block_id !== undefined) {
      const id = str(block.block_id) ?? '';
      if (id.length === 0 || id.length > LIMITS.blockId) {
        errors.push(`must be between 1 and ${LIMITS.blockId} characters ${at(`${p}/block_id`)}`);
      } else if (blockIds.has(id)) {
        errors.push(`duplicate block_id ${at(`${p}/block_id`)}`);
      }
      blockIds.add(id);
    }
    switch (block.type) {
      case 'section': {
        if (block.text === undefined && block.fields === undefined) {
          errors.push(`must provide either text or fields ${at(p)}`);
        }
        if (block.text !== undefined) checkText(block.text, `${p}/text`, LIMITS.sectionText);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields)) errors.push(`must be an array ${at(`${p}/fields`)}`);
          else {
            if (block.fields.length > LIMITS.sectionFields) {
              errors.push(`no more than ${LIMITS.sectionFields} items allowed ${at(`${p}/fields`)}`);
            }
            for (const [j, f] of block.fields.entries()) checkText(f, `${p}/fields/${j}`, LIMITS.sectionFieldText);
          }
        }
        if (block.accessory !== undefined) checkElement(block.accessory, `${p}/accessory`);
        break;
      }
      case 'header':
        checkText(block.text, `${p}/text`, LIMITS.headerText, ['plain_text']);
        break;
      case 'context':
        if (!Array.isArray(block.elements) || block.elements.length === 0) {
          errors.push(`must provide at least 1 item ${at(`${p}/elements`)}`);
        } else if (block.elements.length > LIMITS.contextElements) {
          errors.push(`no more than ${LIMITS.contextElements} items allowed ${at(`${p}/elements`)}`);
        }
        break;
      case 'actions': {
        if (!Array.isArray(block.elements) || block.elements.length === 0) {
          errors.push(`must provide at least 1 item ${at(`${p}/elements`)}`);
          break;
        }
        if (block.elements.length > LIMITS.actionsElements) {
          errors.push(`no more than ${LIMITS.actionsElements} items allowed ${at(`${p}/elements`)}`);
        }
        const actionIds = new Set<string>();
        block.elements.forEach((el, j) => {
          checkElement(el, `${p}/elements/${j}`);
          if (isObject(el) && typeof el.action_id === 'string') {
            if (actionIds.has(el.action_id)) errors.push(`duplicate action_id ${at(`${p}/elements/${j}/action_id`)}`);
            actionIds.add(el.action_id);
          }
        });
        break;
      }
      case 'image':
        if (typeof block.image_url === 'string' && block.image_url.length > LIMITS.imageUrl) {
          errors.push(`must be less than ${LIMITS.imageUrl + 1} characters ${at(`${p}/image_url`)}`);
        }
        if (typeof block.alt_text !== 'string' || block.alt_text.length === 0) {
          errors.push(`must provide a string ${at(`${p}/alt_text`)}`);
        } else if (block.alt_text.length > LIMITS.imageAltText) {
          errors.push(`must be less than ${LIMITS.imageAltText + 1} characters ${at(`${p}/alt_text`)}`);
        }
        break;
      case 'markdown':
        if (typeof block.text !== 'string' || block.text.length === 0) {
          errors.push(`must provide a string ${at(`${p}/text`)}`);
        } else if (block.text.length > LIMITS.markdownBlockText) {
          errors.push(`must be less than ${LIMITS.markdownBlockText + 1} characters ${at(`${p}/text`)}`);
        }
        break;
      default:
        break;
    }
  });
  return errors;

  function checkElement(el: unknown, path: string): void {
    if (!isObject(el) || typeof el.type !== 'string') {
      errors.push(`must provide an element with a type ${at(path)}`);
      return;
    }
    if (el.action_id !== undefined) {
      const id = str(el.action_id) ?? '';
      if (id.length === 0 || id.length > LIMITS.actionId) {
        errors.push(`must be between 1 and ${LIMITS.actionId} characters ${at(`${path}/action_id`)}`);
      }
    }
    if (el.type === 'button') {
      checkText(el.text, `${path}/text`, LIMITS.buttonText, ['plain_text']);
      if (typeof el.value === 'string' && el.value.length > LIMITS.buttonValue) {
        errors.push(`must be less than ${LIMITS.buttonValue + 1} characters ${at(`${path}/value`)}`);
      }
      if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
        errors.push(`must be one of "primary", "danger" ${at(`${path}/style`)}`);
      }
    }
  }
}

/** Reads a whole request body. */
function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parses a multipart/form-data body with the platform's own parser (undici's Response). */
async function parseMultipart(body: Buffer, contentType: string): Promise<FormData> {
  return new Response(body, { headers: { 'content-type': contentType } }).formData();
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

interface Waiter<T> {
  matches: (item: T) => boolean;
  resolve: (item: T) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Internal message record: the public shape plus the bits Slack keeps for edits. */
interface StoredMessage extends PostedMessage {
  attachments?: unknown[];
  metadata?: unknown;
}

/**
 * Starts the stand-in on 127.0.0.1, on a free port.
 * Resolves once it is listening.
 */
export async function startSlackApiServer(options: SlackApiServerOptions = {}): Promise<SlackApiServer> {
  const botToken = options.botToken ?? 'xoxb-test-token';
  const botUserId = options.botUserId ?? 'U0BOT00001';
  const botId = 'B0BOT00001';
  const appId = 'A0MIGRATE01';
  const teamId = options.teamId ?? 'T0TEST0001';
  const teamName = 'Test Workspace';
  const teamUrl = 'https://test-workspace.slack.com/';

  const calls: RecordedCall[] = [];
  const channels: SlackChannel[] = [];
  const stored: StoredMessage[] = [];
  const ephemerals: EphemeralMessage[] = [];
  const responses: ResponseUrlPost[] = [];
  const uploadedFiles: UploadedFile[] = [];
  const failures = new Map<string, string[]>();
  const httpFaults = new Map<string, HttpFault[]>();
  const explicitUsers = new Set<string>(options.users ?? []);
  const strictUsers = options.users !== undefined;
  const removedUsers = new Set<string>();
  const views: OpenedView[] = [];
  const pins: Array<{ channel: string; ts: string }> = [];
  const bookmarks: Array<{ id: string; channel_id: string; title: string; link: string; emoji: string }> = [];
  const usedTriggers = new Set<string>();
  const usergroups = new Map<string, string[]>();
  const responseUses = new Map<string, number>();
  const callWaiters = new Set<Waiter<RecordedCall>>();
  const responseWaiters = new Set<Waiter<ResponseUrlPost>>();

  let channelSeq = 0;
  let fileSeq = 0;
  let responseSeq = 0;
  let lastTsSec = 0;
  let lastTsMicro = 0;

  /** Unique, strictly increasing message timestamps (`<unix seconds>.<6 digits>`). */
  function nextTs(): string {
    const nowSec = Math.floor(Date.now() / 1000);
    if (nowSec > lastTsSec) {
      lastTsSec = nowSec;
      lastTsMicro = 100;
    } else {
      lastTsMicro += 100;
      if (lastTsMicro >= 1_000_000) {
        lastTsSec += 1;
        lastTsMicro = 100;
      }
    }
    return `${lastTsSec}.${String(lastTsMicro).padStart(6, '0')}`;
  }

  function newChannelId(): string {
    channelSeq += 1;
    return `C0SIM${String(channelSeq).padStart(5, '0')}`;
  }

  function userExists(id: string): boolean {
    if (id === botUserId) return true;
    if (removedUsers.has(id)) return false;
    if (explicitUsers.has(id)) return true;
    return !strictUsers && /^[UW][A-Z0-9]+$/.test(id);
  }

  /**
   * The channel with this ID. Only chat.postMessage also accepts a channel name (its reference:
   * "an encoded ID or channel name"); every other method wants the ID.
   */
  function findChannel(idOrName: string | undefined, allowName = false): SlackChannel | undefined {
    if (!idOrName) return undefined;
    const byId = channels.find((c) => c.id === idOrName);
    if (byId || !allowName) return byId;
    const name = idOrName.startsWith('#') ? idOrName.slice(1) : idOrName;
    return channels.find((c) => c.name === name);
  }

  /** The conversation object Slack returns for a channel, as seen by the bot. */
  function channelObject(c: SlackChannel, extra: Json = {}): Json {
    return {
      id: c.id,
      name: c.name,
      is_channel: true,
      is_group: false,
      is_im: false,
      is_mpim: false,
      is_private: c.is_private,
      created: c.created,
      creator: c.creator,
      is_archived: c.is_archived,
      is_general: false,
      unlinked: 0,
      name_normalized: c.name,
      is_shared: false,
      is_ext_shared: false,
      is_org_shared: false,
      pending_shared: [],
      is_pending_ext_shared: false,
      is_member: c.members.includes(botUserId),
      last_read: '0000000000.000000',
      topic: { value: c.topic ?? '', creator: c.topic ? botUserId : '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
      previous_names: [],
      ...extra,
    };
  }

  /** Channel the bot can write to, or the Slack error for why not. */
  function writableChannel(channelArg: unknown, allowName = false): SlackChannel {
    const channel = findChannel(str(channelArg), allowName);
    if (!channel) fail('channel_not_found');
    if (channel.is_archived) fail('is_archived');
    if (!channel.members.includes(botUserId)) fail('not_in_channel');
    return channel;
  }

  /** Validates `blocks` from args: undefined when absent; Slack's errors when malformed. */
  function blocksArg(args: Json): unknown[] | undefined {
    const blocks = args.blocks;
    if (blocks === undefined || blocks === '') return undefined;
    if (!Array.isArray(blocks)) fail('invalid_blocks_format');
    const errors = blockKitErrors(blocks);
    if (errors.length > 0) {
      fail('invalid_blocks', { errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } });
    }
    return blocks;
  }

  function messageBody(m: StoredMessage): Json {
    return {
      type: 'message',
      user: m.user,
      bot_id: botId,
      app_id: appId,
      text: m.text,
      ts: m.ts,
      team: teamId,
      ...(m.blocks.length > 0 ? { blocks: m.blocks } : {}),
      ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    };
  }

  const handlers: Record<string, (args: Json) => MethodResult> = {
    'auth.test': () => ({
      ok: true,
      url: teamUrl,
      team: teamName,
      user: 'migrate-bot',
      team_id: teamId,
      user_id: botUserId,
      bot_id: botId,
      is_enterprise_install: false,
    }),

    // docs.slack.dev/reference/methods/views.open: a trigger_id is good for one view; modal titles, submit and close labels are at most 24 characters.
    'views.open': (args) => {
      const trigger = str(args.trigger_id);
      if (!trigger) fail('invalid_arguments');
      if (usedTriggers.has(trigger)) fail('exchanged_trigger_id');
      const view = args.view as Json | undefined;
      if (!view || typeof view !== 'object' || view.type !== 'modal') fail('invalid_arguments');
      for (const key of ['title', 'submit', 'close'] as const) {
        const label = (view[key] as { text?: string } | undefined)?.text;
        if (key === 'title' && !label) fail('invalid_arguments');
        if (label && label.length > 24)
          fail('invalid_arguments', {
            response_metadata: {
              messages: [`[ERROR] must be less than 25 characters [json-pointer:/view/${key}/text]`],
            },
          });
      }
      if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000) fail('invalid_arguments');
      const errors = blockKitErrors(Array.isArray(view.blocks) ? view.blocks : []);
      if (errors.length)
        fail('invalid_arguments', { response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } });
      usedTriggers.add(trigger);
      const opened = { id: `V${String(views.length + 1).padStart(9, '0')}`, trigger_id: trigger, view };
      views.push(opened);
      return { ok: true, view: { ...view, id: opened.id, team_id: teamId, app_id: appId, bot_id: botId } };
    },

    'users.info': (args) => {
      const id = str(args.user) ?? '';
      if (!userExists(id)) fail('user_not_found');
      return { ok: true, user: { id, name: id.toLowerCase(), deleted: false, is_bot: id === botUserId } };
    },

    'usergroups.users.list': (args) => {
      const group = usergroups.get(str(args.usergroup) ?? '');
      if (!group) fail('no_such_subteam');
      return { ok: true, users: [...group] };
    },

    'conversations.create': (args) => {
      const name = str(args.name) ?? '';
      if (name.length === 0) fail('invalid_name_required');
      if (name.length > 80) fail('invalid_name_maxlength');
      if (!/^[a-z0-9_-]+$/.test(name)) fail('invalid_name_specials');
      if (/^[_-]+$/.test(name)) fail('invalid_name_punctuation');
      if (channels.some((c) => c.name === name)) fail('name_taken');
      const channel: SlackChannel = {
        id: newChannelId(),
        name,
        is_private: bool(args.is_private),
        members: [botUserId],
        created: Math.floor(Date.now() / 1000),
        creator: botUserId,
        is_archived: false,
      };
      channels.push(channel);
      return {
        ok: true,
        channel: channelObject(channel, { latest: null, unread_count: 0, unread_count_display: 0, priority: 0 }),
      };
    },

    'conversations.invite': (args) => {
      const channel = findChannel(str(args.channel));
      if (!channel) fail('channel_not_found');
      if (channel.is_archived) fail('is_archived');
      if (!channel.members.includes(botUserId)) fail('not_in_channel');
      const raw = Array.isArray(args.users) ? args.users.map(String).join(',') : (str(args.users) ?? '');
      const users = raw
        .split(',')
        .map((u) => u.trim())
        .filter((u) => u.length > 0);
      if (users.length === 0) fail('no_user');
      if (users.length > 1000) fail('too_many_users');
      // Slack invites nobody when any invite fails, and lists each failure in `errors`.
      const problems: Array<{ user: string; ok: false; error: string }> = [];
      for (const user of users) {
        if (user === botUserId) problems.push({ user, ok: false, error: 'cant_invite_self' });
        else if (!userExists(user)) problems.push({ user, ok: false, error: 'user_not_found' });
      }
      const first = problems[0];
      if (first) fail(first.error, { errors: problems });
      const fresh = users.filter((u) => !channel.members.includes(u));
      if (fresh.length === 0)
        fail('already_in_channel', { errors: users.map((user) => ({ user, ok: false, error: 'already_in_channel' })) });
      for (const u of new Set(fresh)) channel.members.push(u);
      return { ok: true, channel: channelObject(channel) };
    },

    'conversations.info': (args) => {
      const channel = findChannel(str(args.channel));
      if (!channel) fail('channel_not_found');
      const extra: Json = bool(args.include_num_members) ? { num_members: channel.members.length } : {};
      return { ok: true, channel: channelObject(channel, extra) };
    },

    'conversations.members': (args) => {
      const channel = findChannel(str(args.channel));
      if (!channel) fail('channel_not_found');
      return { ok: true, members: [...channel.members], response_metadata: { next_cursor: '' } };
    },

    'conversations.archive': (args) => {
      const channel = findChannel(str(args.channel));
      if (!channel) fail('channel_not_found');
      if (channel.is_archived) fail('already_archived');
      if (!channel.members.includes(botUserId)) fail('not_in_channel');
      channel.is_archived = true;
      return { ok: true };
    },

    'chat.postMessage': (args) => {
      const channel = writableChannel(args.channel, true);
      const blocks = blocksArg(args);
      const attachments = Array.isArray(args.attachments) ? args.attachments : undefined;
      let text = str(args.text) ?? '';
      if (text.length === 0 && !blocks && !attachments) fail('no_text');
      // Documented: Slack truncates text beyond 40,000 characters rather than rejecting it.
      if (text.length > LIMITS.messageText) text = text.slice(0, LIMITS.messageText);
      const threadTs = str(args.thread_ts);
      const message: StoredMessage = {
        channel: channel.id,
        ts: nextTs(),
        text,
        blocks: blocks ?? [],
        user: botUserId,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...(attachments ? { attachments } : {}),
        ...(args.metadata !== undefined ? { metadata: args.metadata } : {}),
      };
      stored.push(message);
      return { ok: true, channel: channel.id, ts: message.ts, message: messageBody(message) };
    },

    // docs.slack.dev/reference/methods/conversations.history: newest first, top-level messages
    // and thread broadcasts only; `metadata` only with include_all_metadata.
    // docs.slack.dev/reference/methods/conversations.replies: the parent first, then its replies, oldest first.
    'conversations.replies': (args) => {
      const channel = findChannel(str(args.channel));
      if (!channel) fail('channel_not_found');
      if (!channel.members.includes(botUserId)) fail('not_in_channel');
      const ts = str(args.ts);
      const parent = stored.find((m) => m.channel === channel.id && m.ts === ts);
      if (!parent) fail('thread_not_found');
      const withMetadata = bool(args.include_all_metadata);
      const messages = [parent, ...stored.filter((m) => m.channel === channel.id && m.thread_ts === ts)].map((m) => ({
        ...messageBody(m),
        ...(withMetadata && m.metadata !== undefined ? { metadata: m.metadata } : {}),
      }));
      return { ok: true, messages, has_more: false, response_metadata: { next_cursor: '' } };
    },

    // docs.slack.dev/reference/methods/chat.getPermalink
    'chat.getPermalink': (args) => {
      const channel = findChannel(str(args.channel));
      if (!channel) fail('channel_not_found');
      const m = stored.find((x) => x.channel === channel.id && x.ts === str(args.message_ts));
      if (!m) fail('message_not_found');
      return { ok: true, channel: channel.id, permalink: `${teamUrl}archives/${channel.id}/p${m.ts.replace('.', '')}` };
    },

    // docs.slack.dev/reference/methods/bookmarks.add: type `link` needs a link; title required.
    'bookmarks.add': (args) => {
      const channel = findChannel(str(args.channel_id));
      if (!channel) fail('channel_not_found');
      const title = str(args.title) ?? '';
      const link = str(args.link) ?? '';
      if (!title) fail('invalid_arguments');
      if (str(args.type) !== 'link' || !/^https?:\/\//.test(link)) fail('invalid_link');
      const bookmark = {
        id: `Bk${String(bookmarks.length + 1).padStart(9, '0')}`,
        channel_id: channel.id,
        title,
        link,
        emoji: str(args.emoji) ?? '',
      };
      bookmarks.push(bookmark);
      return { ok: true, bookmark: { ...bookmark, type: 'link', date_created: Math.floor(Date.now() / 1000) } };
    },

    // docs.slack.dev/reference/methods/pins.add
    'pins.add': (args) => {
      const channel = findChannel(str(args.channel));
      if (!channel) fail('channel_not_found');
      const m = stored.find((x) => x.channel === channel.id && x.ts === str(args.timestamp));
      if (!m) fail('message_not_found');
      if (pins.some((p) => p.channel === channel.id && p.ts === m.ts)) fail('already_pinned');
      pins.push({ channel: channel.id, ts: m.ts });
      return { ok: true };
    },

    // docs.slack.dev/reference/methods/conversations.setTopic: at most 250 characters.
    'conversations.setTopic': (args) => {
      const channel = findChannel(str(args.channel));
      if (!channel) fail('channel_not_found');
      if (!channel.members.includes(botUserId)) fail('not_in_channel');
      const topic = str(args.topic) ?? '';
      if (topic.length > 250) fail('too_long');
      channel.topic = topic;
      return { ok: true, channel: channelObject(channel) };
    },

    'conversations.history': (args) => {
      const channel = findChannel(str(args.channel));
      if (!channel) fail('channel_not_found');
      if (!channel.members.includes(botUserId)) fail('not_in_channel');
      const limit = Math.min(999, Math.max(1, Number(str(args.limit) ?? args.limit ?? 100) || 100));
      const withMetadata = bool(args.include_all_metadata);
      const messages = stored
        .filter((m) => m.channel === channel.id && !m.thread_ts)
        .reverse()
        .slice(0, limit)
        .map((m) => ({
          ...messageBody(m),
          ...(withMetadata && m.metadata !== undefined ? { metadata: m.metadata } : {}),
        }));
      return { ok: true, messages, has_more: false, response_metadata: { next_cursor: '' } };
    },

    'chat.update': (args) => {
      const channel = findChannel(str(args.channel));
      if (!channel) fail('channel_not_found');
      const ts = str(args.ts);
      const message = stored.find((m) => m.channel === channel.id && m.ts === ts);
      if (!message) fail('message_not_found');
      if (channel.is_archived) fail('is_archived');
      if (message.user !== botUserId) fail('cant_update_message');
      const blocks = blocksArg(args);
      const text = str(args.text);
      if ((text === undefined || text === '') && blocks === undefined && args.attachments === undefined)
        fail('no_text');
      if (text !== undefined && text.length > LIMITS.messageText) fail('msg_too_long');
      // Omitted `blocks` keeps the previous blocks; `[]` removes them (chat.update reference).
      if (blocks !== undefined) message.blocks = blocks;
      if (text !== undefined) message.text = text;
      if (Array.isArray(args.attachments)) message.attachments = args.attachments;
      message.editedAt = Date.now();
      return { ok: true, channel: channel.id, ts: message.ts, text: message.text, message: messageBody(message) };
    },

    'chat.postEphemeral': (args) => {
      const channel = findChannel(str(args.channel));
      if (!channel) fail('channel_not_found');
      if (channel.is_archived) fail('is_archived');
      const user = str(args.user) ?? '';
      if (!userExists(user)) fail('user_not_found');
      if (!channel.members.includes(user)) fail('user_not_in_channel');
      const blocks = blocksArg(args);
      const text = str(args.text) ?? '';
      if (text.length === 0 && !blocks && args.attachments === undefined) fail('no_text');
      const threadTs = str(args.thread_ts);
      const ephemeral: EphemeralMessage = {
        channel: channel.id,
        user,
        text,
        blocks: blocks ?? [],
        message_ts: nextTs(),
        ...(threadTs ? { thread_ts: threadTs } : {}),
      };
      ephemerals.push(ephemeral);
      return { ok: true, message_ts: ephemeral.message_ts };
    },

    'files.getUploadURLExternal': (args) => {
      const filename = str(args.filename);
      const length = Number(str(args.length));
      if (!filename || !Number.isInteger(length) || length < 0) fail('invalid_arguments');
      fileSeq += 1;
      const id = `F0SIM${String(fileSeq).padStart(5, '0')}`;
      uploadedFiles.push({ id, filename, length, content: '', uploaded: false, completed: false });
      return { ok: true, upload_url: `${origin}/upload/${id}`, file_id: id };
    },

    'files.completeUploadExternal': (args) => {
      const list = args.files;
      if (!Array.isArray(list) || list.length === 0) fail('invalid_arguments');
      const picked = list.map((entry) => {
        const id = isObject(entry) ? str(entry.id) : undefined;
        const file = uploadedFiles.find((f) => f.id === id);
        // Not uploaded yet, or already completed ("This method can only be called once").
        if (!file?.uploaded || file.completed) fail('file_not_found');
        return { file, title: isObject(entry) ? str(entry.title) : undefined };
      });
      const channelId = str(args.channel_id);
      if (channelId) writableChannel(channelId);
      const threadTs = str(args.thread_ts);
      const comment = str(args.initial_comment);
      for (const { file, title } of picked) {
        file.completed = true;
        file.title = title ?? file.filename;
        if (channelId) file.channel_id = channelId;
        if (threadTs) file.thread_ts = threadTs;
        if (comment) file.initial_comment = comment;
      }
      return {
        ok: true,
        files: picked.map(({ file }) => ({ id: file.id, title: file.title, name: file.filename })),
      };
    },
  };

  /** Runs one Web API call: auth, injected failure, handler; records it; answers JSON. */
  function dispatch(method: string, args: Json, authHeader: string | undefined): MethodResult {
    const { token, ...recordedArgs } = args;
    let result: MethodResult;
    const handler = handlers[method];
    const bearer = authHeader?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
    const presented = bearer ?? str(token);
    if (!handler) result = { ok: false, error: 'unknown_method', req_method: method };
    else if (!presented) result = { ok: false, error: 'not_authed' };
    else if (presented !== botToken) result = { ok: false, error: 'invalid_auth' };
    else {
      const queued = failures.get(method);
      const injected = queued?.shift();
      if (injected !== undefined) result = { ok: false, error: injected };
      else {
        try {
          result = handler(args);
        } catch (e) {
          if (!(e instanceof SlackError)) throw e;
          result = { ok: false, error: e.code, ...e.extra };
        }
      }
    }
    const call: RecordedCall = { method, args: recordedArgs, ok: result.ok, at: Date.now() };
    if (result.error !== undefined) call.error = result.error;
    calls.push(call);
    notify(callWaiters, call);
    return result;
  }

  function notify<T>(waiters: Set<Waiter<T>>, item: T): void {
    for (const w of waiters) {
      if (w.matches(item)) {
        clearTimeout(w.timer);
        waiters.delete(w);
        w.resolve(item);
      }
    }
  }

  function rejectAll<T>(waiters: Set<Waiter<T>>): void {
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(new Error('Slack stand-in closed while waiting'));
    }
    waiters.clear();
  }

  function waitFor<T>(
    existing: T[],
    waiters: Set<Waiter<T>>,
    matches: (item: T) => boolean,
    timeoutMs: number,
    describe: () => string,
  ): Promise<T> {
    const found = existing.find(matches);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        matches,
        resolve,
        reject,
        timer: setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(describe()));
        }, timeoutMs),
      };
      waiters.add(waiter);
    });
  }

  /** "chat.postMessage ×2 (1 failed: not_in_channel), auth.test ×1" — for timeout messages. */
  function summarizeCalls(): string {
    if (calls.length === 0) return 'no calls at all';
    const byMethod = new Map<string, RecordedCall[]>();
    for (const c of calls) byMethod.set(c.method, [...(byMethod.get(c.method) ?? []), c]);
    return [...byMethod.entries()]
      .map(([m, cs]) => {
        const failed = cs.filter((c) => !c.ok);
        const errs =
          failed.length > 0 ? ` (${failed.length} failed: ${[...new Set(failed.map((c) => c.error))].join(', ')})` : '';
        return `${m} ×${cs.length}${errs}`;
      })
      .join(', ');
  }

  async function decodeArgs(req: http.IncomingMessage, url: URL): Promise<Json | 'invalid_json' | 'json_not_object'> {
    const args: Json = Object.fromEntries(url.searchParams);
    const body = await readBody(req);
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (body.length > 0) {
      if (type.startsWith('application/json')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          return 'invalid_json';
        }
        if (!isObject(parsed)) return 'json_not_object';
        Object.assign(args, parsed);
      } else if (type.startsWith('multipart/form-data')) {
        const form = await parseMultipart(body, req.headers['content-type'] ?? '');
        for (const [k, v] of form.entries()) args[k] = typeof v === 'string' ? v : `<file ${v.name}>`;
      } else {
        Object.assign(args, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
      }
    }
    for (const key of JSON_ARGS) {
      const v = args[key];
      if (typeof v === 'string' && v.length > 0) {
        try {
          args[key] = JSON.parse(v);
        } catch {
          // Left as the raw string; handlers answer Slack's *_format errors for it.
        }
      }
    }
    return args;
  }

  async function handleUpload(req: http.IncomingMessage, res: http.ServerResponse, id: string): Promise<void> {
    const file = uploadedFiles.find((f) => f.id === id);
    const body = await readBody(req);
    if (!file) return sendText(res, 404, 'file_not_found');
    let bytes = body;
    const type = req.headers['content-type'] ?? '';
    if (type.toLowerCase().startsWith('multipart/form-data')) {
      // WebClient.filesUploadV2 posts the bytes as the `body` part of a multipart form.
      const form = await parseMultipart(body, type);
      const values = [...form.values()];
      const part = values.find((v) => typeof v !== 'string');
      const text = values.find((v) => typeof v === 'string');
      if (part !== undefined && typeof part !== 'string') bytes = Buffer.from(await part.arrayBuffer());
      else bytes = Buffer.from(typeof text === 'string' ? text : '', 'utf8');
    }
    file.content = bytes.toString('utf8');
    file.uploaded = true;
    sendText(res, 200, `OK - ${bytes.length}`);
  }

  async function handleResponseUrl(req: http.IncomingMessage, res: http.ServerResponse, key: string): Promise<void> {
    const raw = (await readBody(req)).toString('utf8');
    let body: Json = {};
    let status = 200;
    let answer = 'ok';
    try {
      const type = (req.headers['content-type'] ?? '').toLowerCase();
      const parsed: unknown = type.startsWith('application/x-www-form-urlencoded')
        ? JSON.parse(new URLSearchParams(raw).get('payload') ?? '{}')
        : JSON.parse(raw);
      if (!isObject(parsed)) throw new Error('not an object');
      body = parsed;
    } catch {
      status = 400;
      answer = 'invalid_payload';
    }
    const uses = (responseUses.get(key) ?? 0) + 1;
    responseUses.set(key, uses);
    if (status === 200 && uses > LIMITS.responseUrlUses) {
      status = 404;
      answer = 'used_url';
    }
    if (status === 200 && !bool(body.delete_original)) {
      const hasText = typeof body.text === 'string' && body.text.length > 0;
      const hasBlocks = Array.isArray(body.blocks) && body.blocks.length > 0;
      if (!hasText && !hasBlocks && body.attachments === undefined) {
        status = 400;
        answer = 'no_text';
      } else if (body.blocks !== undefined && (!Array.isArray(body.blocks) || blockKitErrors(body.blocks).length > 0)) {
        status = 400;
        answer = 'invalid_blocks';
      }
    }
    const post: ResponseUrlPost = { key, body, status, at: Date.now() };
    responses.push(post);
    notify(responseWaiters, post);
    sendText(res, status, answer);
  }

  /** Answers an injected transport fault for `method`, if one is queued; records it. @returns true when it did */
  function answerFault(method: string, args: Json, res: http.ServerResponse, authHeader: string | undefined): boolean {
    const fault = httpFaults.get(method)?.[0];
    if (!fault) return false;
    httpFaults.get(method)!.shift();
    if ('answerLost' in fault) {
      dispatch(method, args, authHeader);
      const last = calls[calls.length - 1]!;
      last.error = 'answer_lost';
      res.socket?.destroy();
      return true;
    }
    const { token: _token, ...recordedArgs } = args;
    const call: RecordedCall = {
      method,
      args: recordedArgs,
      ok: false,
      at: Date.now(),
      error: 'network' in fault ? 'network' : `http_${fault.status}`,
    };
    calls.push(call);
    notify(callWaiters, call);
    if ('network' in fault) {
      res.socket?.destroy();
      return true;
    }
    if (fault.status === 429) {
      const body = JSON.stringify({ ok: false, error: 'ratelimited' });
      res.writeHead(429, {
        'content-type': 'application/json; charset=utf-8',
        'retry-after': String(fault.retryAfterSec ?? 1),
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
      return true;
    }
    sendText(res, fault.status, '<html><body><h1>503 Service Unavailable</h1></body></html>');
    return true;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const path = url.pathname;
    if (path.startsWith('/api/')) {
      const method = decodeURIComponent(path.slice('/api/'.length));
      const args = await decodeArgs(req, url);
      if (typeof args === 'string') return sendJson(res, 200, { ok: false, error: args });
      if (answerFault(method, args, res, req.headers.authorization)) return;
      return sendJson(res, 200, dispatch(method, args, req.headers.authorization));
    }
    if (req.method === 'POST' && path.startsWith('/upload/'))
      return handleUpload(req, res, path.slice('/upload/'.length));
    if (req.method === 'POST' && path.startsWith('/response/')) {
      return handleResponseUrl(req, res, decodeURIComponent(path.slice('/response/'.length)));
    }
    await readBody(req);
    sendText(res, 404, 'not found');
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendText(res, 500, `slack-api-server error: ${String(err)}`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    apiUrl: `${origin}/api/`,
    origin,
    botToken,
    botUserId,
    teamId,
    calls,
    channels,
    ephemerals,
    responses,
    uploadedFiles,
    callsTo: (method) => calls.filter((c) => c.method === method),
    waitForCall: (method, predicate, timeoutMs = 10_000) =>
      waitFor(
        calls,
        callWaiters,
        (c) => c.method === method && (predicate ? predicate(c) : true),
        timeoutMs,
        () =>
          `Slack stand-in: no ${method} call${predicate ? ' matching the predicate' : ''} within ${timeoutMs} ms. ` +
          `Calls seen: ${summarizeCalls()}.`,
      ),
    messages: (channelId) => stored.filter((m) => channelId === undefined || m.channel === channelId),
    responseUrl: (key) => {
      let k = key;
      if (k === undefined) {
        responseSeq += 1;
        k = `r${responseSeq}`;
      }
      return `${origin}/response/${encodeURIComponent(k)}`;
    },
    waitForResponse: (predicate, timeoutMs = 10_000) =>
      waitFor(
        responses,
        responseWaiters,
        (r) => (predicate ? predicate(r) : true),
        timeoutMs,
        () =>
          `Slack stand-in: no response_url POST${predicate ? ' matching the predicate' : ''} within ${timeoutMs} ms. ` +
          `POSTs seen: ${responses.length === 0 ? 'none' : responses.map((r) => `${r.key} (${r.status})`).join(', ')}; ` +
          `Web API calls seen: ${summarizeCalls()}.`,
      ),
    failNext: (method, error) => {
      failures.set(method, [...(failures.get(method) ?? []), error]);
    },
    fault: (method, fault, times = 1) => {
      httpFaults.set(method, [...(httpFaults.get(method) ?? []), ...Array.from({ length: times }, () => fault)]);
    },
    faultsLeft: (method) => httpFaults.get(method)?.length ?? 0,
    views,
    pins,
    bookmarks,
    setUsergroup: (id, users) => {
      usergroups.set(id, [...users]);
    },
    addUser: (id) => {
      removedUsers.delete(id);
      explicitUsers.add(id);
    },
    removeUser: (id) => {
      explicitUsers.delete(id);
      removedUsers.add(id);
    },
    addChannel: ({ id, name, is_private = false, members, botIsMember = true }) => {
      const memberList = [...(members ?? [])];
      if (botIsMember && !memberList.includes(botUserId)) memberList.push(botUserId);
      if (!botIsMember) memberList.splice(0, memberList.length, ...memberList.filter((m) => m !== botUserId));
      const channel: SlackChannel = {
        id: id ?? newChannelId(),
        name,
        is_private,
        members: memberList,
        created: Math.floor(Date.now() / 1000),
        creator: memberList.find((m) => m !== botUserId) ?? 'U0ADMIN001',
        is_archived: false,
      };
      channels.push(channel);
      return channel;
    },
    close: async () => {
      rejectAll(callWaiters);
      rejectAll(responseWaiters);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
