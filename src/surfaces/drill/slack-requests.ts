/**
 * Used by the drill console (which plays Slack for a local bot) and by the tests.
 * Builds and sends the requests Slack sends to an app, byte for byte as Slack does:
 *  - slash commands: `application/x-www-form-urlencoded` fields
 *    (docs.slack.dev/interactivity/implementing-slash-commands);
 *  - interactions: the same content type with one `payload` field holding the JSON
 *    (docs.slack.dev/reference/interaction-payloads/block_actions-payload);
 * both signed as in docs.slack.dev/authentication/verifying-requests-from-slack:
 * `X-Slack-Signature: v0=hex(HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + raw body))`.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Content type of slash commands and interaction payloads. */
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** Headers of a signed Slack request. */
export interface SlackSignatureHeaders {
  /** `v0=` + 64 lowercase hex digits. */
  'X-Slack-Signature': string;
  /** Unix seconds, as a decimal string. */
  'X-Slack-Request-Timestamp': string;
  /** Content type of the body that was signed. */
  'Content-Type': string;
}

/**
 * Signs a raw request body the way Slack does.
 * @param rawBody the exact bytes that will be sent, as a string
 * @param signingSecret the app's signing secret
 * @param timestampSec Unix seconds to sign with; default now
 * @param contentType the body's content type; default `application/x-www-form-urlencoded`
 */
export function signSlackRequest(
  rawBody: string,
  signingSecret: string,
  timestampSec: number = Math.floor(Date.now() / 1000),
  contentType: string = FORM_CONTENT_TYPE,
): SlackSignatureHeaders {
  const ts = String(timestampSec);
  const digest = createHmac('sha256', signingSecret).update(`v0:${ts}:${rawBody}`).digest('hex');
  return { 'X-Slack-Signature': `v0=${digest}`, 'X-Slack-Request-Timestamp': ts, 'Content-Type': contentType };
}

/**
 * Form-encodes fields in the given order, as Slack encodes slash commands
 * (`application/x-www-form-urlencoded`: spaces as `+`, `/` as `%2F`, `:` as `%3A`).
 */
export function formEncode(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

/** How to sign a request sent by {@link postSlashCommand} / {@link postBlockActions}. */
export interface SendOptions {
  /** `'valid'` (default), `'bad'` (signature of other bytes), or `'missing'` (no signature headers). */
  signature?: 'valid' | 'bad' | 'missing';
  /** Unix seconds for `X-Slack-Request-Timestamp`; default now. Use an old one to test replay rejection. */
  timestampSec?: number;
}

/** What the app answered. */
export interface SlackRequestResult {
  /** HTTP status. */
  status: number;
  /** Response body as text (`''` for an empty ack). */
  body: string;
}

/**
 * Signs and POSTs a raw body to the app's events URL.
 * @param eventsUrl e.g. `http://127.0.0.1:<port>/slack/events`
 */
export async function postSignedToApp(
  eventsUrl: string,
  signingSecret: string,
  rawBody: string,
  contentType: string = FORM_CONTENT_TYPE,
  options: SendOptions = {},
): Promise<SlackRequestResult> {
  const mode = options.signature ?? 'valid';
  const signed = signSlackRequest(rawBody, signingSecret, options.timestampSec, contentType);
  const headers: Record<string, string> = { 'Content-Type': contentType };
  if (mode !== 'missing') {
    headers['X-Slack-Request-Timestamp'] = signed['X-Slack-Request-Timestamp'];
    headers['X-Slack-Signature'] =
      mode === 'bad'
        ? signSlackRequest(`${rawBody}&tampered=1`, signingSecret, options.timestampSec, contentType)[
            'X-Slack-Signature'
          ]
        : signed['X-Slack-Signature'];
  }
  const res = await fetch(eventsUrl, { method: 'POST', headers, body: rawBody });
  return { status: res.status, body: await res.text() };
}

/** Defaults shared by both request kinds: one workspace, one app. */
export const SLACK_REQUEST_DEFAULTS = {
  /** Deprecated verification token Slack still sends in `token`. */
  token: 'xyzz0WbapA4vBCDEFasx0q6G',
  teamId: 'T0TEST0001',
  teamDomain: 'test-workspace',
  apiAppId: 'A0MIGRATE01',
  channelId: 'C0SRE00001',
  channelName: 'sre',
} as const;

/** A trigger_id shaped like Slack's (`<digits>.<digits>.<32 hex>`). */
function triggerId(): string {
  const n = () => String(Math.floor(Math.random() * 1e12));
  return `${n()}.${n()}.${randomBytes(16).toString('hex')}`;
}

/** Fields of a slash command; everything but `text`, `user_id` and `response_url` has a default. */
export interface SlashCommandFields {
  /** What the user typed after the command, e.g. `rollback orders-api 2024_11_20_add_index`. */
  text: string;
  /** Invoking user's ID. */
  user_id: string;
  /** Where the app may answer (use `SlackApiServer.responseUrl()`). */
  response_url: string;
  /** Default `/migrate`. */
  command?: string;
  /** Channel the command was typed in; default `C0SRE00001`. */
  channel_id?: string;
  /** Default `sre`. */
  channel_name?: string;
  /** Default derived from `user_id`. */
  user_name?: string;
  /** Default `T0TEST0001`. */
  team_id?: string;
  /** Default `test-workspace`. */
  team_domain?: string;
  /** Default `A0MIGRATE01`. */
  api_app_id?: string;
  /** Default a fresh Slack-shaped trigger ID. */
  trigger_id?: string;
  /** Verification token; default Slack's documentation example. */
  token?: string;
  /** Default `false`. */
  is_enterprise_install?: boolean;
}

/**
 * The raw body Slack sends for a slash command: every field Slack sends, in Slack's order,
 * form-encoded.
 */
export function slashCommandBody(fields: SlashCommandFields): string {
  const d = SLACK_REQUEST_DEFAULTS;
  return formEncode({
    token: fields.token ?? d.token,
    team_id: fields.team_id ?? d.teamId,
    team_domain: fields.team_domain ?? d.teamDomain,
    channel_id: fields.channel_id ?? d.channelId,
    channel_name: fields.channel_name ?? d.channelName,
    user_id: fields.user_id,
    user_name: fields.user_name ?? fields.user_id.toLowerCase(),
    command: fields.command ?? '/migrate',
    text: fields.text,
    api_app_id: fields.api_app_id ?? d.apiAppId,
    is_enterprise_install: String(fields.is_enterprise_install ?? false),
    response_url: fields.response_url,
    trigger_id: fields.trigger_id ?? triggerId(),
  });
}

/** Sends a signed slash command to the app, as Slack does. */
export function postSlashCommand(
  eventsUrl: string,
  signingSecret: string,
  fields: SlashCommandFields,
  options: SendOptions = {},
): Promise<SlackRequestResult> {
  return postSignedToApp(eventsUrl, signingSecret, slashCommandBody(fields), FORM_CONTENT_TYPE, options);
}

/** A button click on a message the app posted. */
export interface BlockActionsArgs {
  /** Clicking user's ID. */
  user_id: string;
  /** The button's `action_id`. */
  action_id: string;
  /** The button's `value`. */
  value: string;
  /** The button's block's `block_id`; default Slack's generated-looking `blk0`. */
  block_id?: string;
  /** Channel of the message. */
  channel_id: string;
  /** `ts` of the message holding the button. */
  message_ts: string;
  /** Where the app may answer (use `SlackApiServer.responseUrl()`). */
  response_url: string;
  /** Button label; default `Approve`. */
  button_text?: string;
  /** Text of the message holding the button; default `''`. */
  message_text?: string;
  /** Blocks of the message holding the button; default `[]`. */
  message_blocks?: unknown[];
  /** Default `incident`. */
  channel_name?: string;
  /** Default derived from `user_id`. */
  user_name?: string;
  /** Default `T0TEST0001`. */
  team_id?: string;
  /** Default `A0MIGRATE01`. */
  api_app_id?: string;
  /** Default a fresh Slack-shaped trigger ID. */
  trigger_id?: string;
}

/** The `block_actions` payload object Slack sends for a button click on a message. */
export function blockActionsPayload(args: BlockActionsArgs): Record<string, unknown> {
  const d = SLACK_REQUEST_DEFAULTS;
  const teamId = args.team_id ?? d.teamId;
  const userName = args.user_name ?? args.user_id.toLowerCase();
  const actionTs = (Date.now() / 1000).toFixed(6);
  return {
    type: 'block_actions',
    user: { id: args.user_id, username: userName, name: userName, team_id: teamId },
    api_app_id: args.api_app_id ?? d.apiAppId,
    token: d.token,
    container: { type: 'message', message_ts: args.message_ts, channel_id: args.channel_id, is_ephemeral: false },
    trigger_id: args.trigger_id ?? triggerId(),
    team: { id: teamId, domain: d.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: args.channel_id, name: args.channel_name ?? 'incident' },
    message: {
      type: 'message',
      ts: args.message_ts,
      text: args.message_text ?? '',
      blocks: args.message_blocks ?? [],
    },
    state: { values: {} },
    response_url: args.response_url,
    actions: [
      {
        action_id: args.action_id,
        block_id: args.block_id ?? 'blk0',
        text: { type: 'plain_text', text: args.button_text ?? 'Approve', emoji: true },
        value: args.value,
        type: 'button',
        action_ts: actionTs,
      },
    ],
  };
}

/** Sends a signed `block_actions` interaction (`payload=<url-encoded JSON>`) to the app, as Slack does. */
export function postBlockActions(
  eventsUrl: string,
  signingSecret: string,
  args: BlockActionsArgs,
  options: SendOptions = {},
): Promise<SlackRequestResult> {
  const body = formEncode({ payload: JSON.stringify(blockActionsPayload(args)) });
  return postSignedToApp(eventsUrl, signingSecret, body, FORM_CONTENT_TYPE, options);
}

/** A modal submitted by a user: the view as opened, and the values typed into its inputs. */
export interface ViewSubmissionArgs {
  user_id: string;
  /** The view as the app sent it to views.open (callback_id, private_metadata, blocks, …), with Slack's `id`. */
  view: Record<string, unknown> & { id: string };
  /** `values[block_id][action_id]` = the text typed into that plain_text_input. */
  values: Record<string, Record<string, string>>;
  team_id?: string;
  api_app_id?: string;
}

/** The `view_submission` payload Slack sends when a modal's submit button is pressed (docs.slack.dev "view_submission payload"). */
export function viewSubmissionPayload(args: ViewSubmissionArgs): Record<string, unknown> {
  const d = SLACK_REQUEST_DEFAULTS;
  const teamId = args.team_id ?? d.teamId;
  const userName = args.user_id.toLowerCase();
  const values = Object.fromEntries(
    Object.entries(args.values).map(([block, actions]) => [
      block,
      Object.fromEntries(
        Object.entries(actions).map(([action, value]) => [action, { type: 'plain_text_input', value }]),
      ),
    ]),
  );
  return {
    type: 'view_submission',
    team: { id: teamId, domain: d.teamDomain },
    user: { id: args.user_id, username: userName, name: userName, team_id: teamId },
    api_app_id: args.api_app_id ?? d.apiAppId,
    token: d.token,
    trigger_id: triggerId(),
    view: {
      ...args.view,
      team_id: teamId,
      state: { values },
      hash: `${Date.now()}.abc`,
      root_view_id: args.view.id,
      previous_view_id: null,
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** Sends a signed `view_submission` interaction to the app, as Slack does; the body answers with any `response_action`. */
export function postViewSubmission(
  eventsUrl: string,
  signingSecret: string,
  args: ViewSubmissionArgs,
  options: SendOptions = {},
): Promise<SlackRequestResult> {
  const body = formEncode({ payload: JSON.stringify(viewSubmissionPayload(args)) });
  return postSignedToApp(eventsUrl, signingSecret, body, FORM_CONTENT_TYPE, options);
}
