/**
 * Words for people, as data: what the bot tells a person (an error's user message, a failure's
 * hint, a refusal) is a list of parts that say what each piece *is* — plain text, a command or
 * identifier, a name, a quote of what someone typed, a Slack user, user group or conversation —
 * never how a surface draws it. Each surface renders them once: Slack as mrkdwn through its one
 * escaping function (`adapters/slack/render/words-mrkdwn.ts`), the CLI as plain text
 * (`wordsPlain` below). So no markup is written by the domain, and no text a person or a
 * database wrote can turn into a mention or a link.
 *
 * Build them with the {@link words} tag: interpolated strings and numbers are plain text, the
 * helpers {@link code}, {@link strong}, {@link quote}, {@link user}, {@link group} and
 * {@link conversation} mark what they hold.
 */

/** One piece of {@link Words}. */
export type WordPart =
  /** Plain text, shown as written (escaped by every surface). */
  | { readonly text: string }
  /** A command, identifier, file or SQL fragment: shown as code (in backticks, on every surface). */
  | { readonly code: string }
  /** A name that should stand out, such as the service: Slack shows it bold. */
  | { readonly strong: string }
  /** A quote of what a person typed (a reason): Slack shows it in italics. */
  | { readonly quote: string }
  /** A Slack user id (`U…`/`W…`), or a CLI operator's name when it is not one. */
  | { readonly user: string }
  /** A Slack user-group id (`S…`). */
  | { readonly group: string }
  /** The incident's conversation (a Slack channel id, `C…`). */
  | { readonly conversation: string };

/** A message as data: its parts in order. Serialisable as JSON (it is stored with failures). */
export interface Words {
  readonly parts: readonly WordPart[];
}

/** What {@link words} accepts between its literal pieces. */
export type WordValue = string | number | bigint | WordPart | Words;

/** A string stands for plain text wherever words are expected (older stored failures are strings). */
export type WordsLike = Words | string;

export const code = (text: string): WordPart => ({ code: text });
export const strong = (text: string): WordPart => ({ strong: text });
export const quote = (text: string): WordPart => ({ quote: text });
export const user = (id: string): WordPart => ({ user: id });
export const group = (id: string): WordPart => ({ group: id });
export const conversation = (id: string): WordPart => ({ conversation: id });

/** True when `value` is {@link Words}. */
export function isWords(value: unknown): value is Words {
  return typeof value === 'object' && value !== null && Array.isArray((value as Words).parts);
}

function partsOf(value: WordValue): WordPart[] {
  if (typeof value === 'string') return value ? [{ text: value }] : [];
  if (typeof value === 'number' || typeof value === 'bigint') return [{ text: String(value) }];
  if (isWords(value)) return [...value.parts];
  return [value];
}

/**
 * Tag for {@link Words}: `words\`${strong(name)} has no open incident.\``.
 * Literal pieces and interpolated strings are plain text.
 */
export function words(literals: TemplateStringsArray, ...values: WordValue[]): Words {
  const parts: WordPart[] = [];
  literals.forEach((literal, i) => {
    parts.push(...partsOf(literal));
    if (i < values.length) parts.push(...partsOf(values[i] as WordValue));
  });
  return { parts };
}

/** {@link Words} from plain text, or the words themselves. */
export function asWords(value: WordsLike): Words {
  return typeof value === 'string' ? { parts: partsOf(value) } : value;
}

/** `items` joined by `separator` (plain text), e.g. a list of codes joined by ", ". */
export function joinWords(items: readonly WordValue[], separator = ', '): Words {
  const parts: WordPart[] = [];
  items.forEach((item, i) => {
    if (i > 0) parts.push(...partsOf(separator));
    parts.push(...partsOf(item));
  });
  return { parts };
}

/**
 * Plain text for a terminal, a log line or a ticket: no bold, italics, emoji or mentions. Code
 * keeps its backticks (the common way to quote a command in plain text); users and groups show
 * as `@id`, conversations as `#id`.
 */
export function wordsPlain(value: WordsLike): string {
  return asWords(value)
    .parts.map((p) => {
      if ('text' in p) return p.text;
      if ('code' in p) return `\`${p.code}\``;
      if ('strong' in p) return p.strong;
      if ('quote' in p) return p.quote;
      if ('user' in p) return `@${p.user}`;
      if ('group' in p) return `@${p.group}`;
      return `#${p.conversation}`;
    })
    .join('');
}
