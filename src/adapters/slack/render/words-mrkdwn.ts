import { asWords, joinWords, user, type WordPart, type WordsLike } from '../../../shared/words.js';
import { userMessageOf } from '../../../shared/errors.js';
import { escapeMrkdwn } from './limits.js';

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;
const SLACK_GROUP = /^S[A-Z0-9]{2,}$/;
const SLACK_CONVERSATION = /^[CGD][A-Z0-9]{2,}$/;

/**
 * Code in mrkdwn: escaped, and a backtick inside cannot close the span early. For names that come
 * from files or databases (migrations, snapshots, databases): a `<!channel>` in one stays text.
 */
export const codeSpan = (text: string | number | null | undefined): string =>
  `\`${escapeMrkdwn(String(text).replace(/`/g, "'"))}\``;

/** Bold or italic in mrkdwn around escaped text; the marker character inside is dropped so it cannot end early. */
const wrap = (mark: '*' | '_', text: string): string => {
  const inner = escapeMrkdwn(text.replaceAll(mark, ' ').trim());
  return inner ? `${mark}${inner}${mark}` : '';
};

/**
 * One part as Slack mrkdwn (Slack "Formatting text for app surfaces"): text is escaped (`&`, `<`,
 * `>`), so no `<!channel>`, link or mention written by a person or a database survives; users,
 * user groups and conversations become mentions only when they are Slack ids, else code.
 */
function partMrkdwn(p: WordPart): string {
  if ('text' in p) return escapeMrkdwn(p.text);
  if ('code' in p) return codeSpan(p.code);
  if ('strong' in p) return wrap('*', p.strong);
  if ('quote' in p) return wrap('_', p.quote);
  if ('user' in p) return SLACK_USER.test(p.user) ? `<@${p.user}>` : codeSpan(p.user);
  if ('group' in p) return SLACK_GROUP.test(p.group) ? `<!subteam^${p.group}>` : codeSpan(p.group);
  return SLACK_CONVERSATION.test(p.conversation) ? `<#${p.conversation}>` : codeSpan(p.conversation);
}

/**
 * {@link WordsLike} as Slack mrkdwn: the one place words for people become Slack markup.
 * A plain string is text and is escaped like any other text.
 */
export function wordsMrkdwn(value: WordsLike): string {
  return asWords(value).parts.map(partMrkdwn).join('');
}

/** What the person who acted is told when it failed: `:warning:` and the error's words (see `userMessageOf`). */
export function errorMrkdwn(err: unknown): string {
  return `:warning: ${wordsMrkdwn(userMessageOf(err))}`;
}

/** A refusal for the person who acted: `:no_entry:` and why. */
export function refusalMrkdwn(why: WordsLike): string {
  return `:no_entry: ${wordsMrkdwn(why)}`;
}

/** People as mentions, joined by `separator` (ids that are not Slack user ids, such as a CLI operator's name, show as code). */
export function people(ids: readonly string[], separator = ', '): string {
  return wordsMrkdwn(joinWords(ids.map(user), separator));
}
