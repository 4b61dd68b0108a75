import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorMrkdwn, wordsMrkdwn } from '../../../src/adapters/slack/render/words-mrkdwn.js';
import { approverWords } from '../../../src/domain/incident/ports/approvers.js';
import { AppError, userMessageOf } from '../../../src/shared/errors.js';
import {
  asWords,
  code,
  conversation,
  joinWords,
  quote,
  strong,
  user,
  words,
  wordsPlain,
} from '../../../src/shared/words.js';

const HOSTILE = '<!channel> see <https://evil.example/login|Approve here> & <@U0ATTACKER>';

describe('words: messages for people as data, rendered once per surface', () => {
  const refusal = words`A rollback of ${strong('ticket-service')} is already open in ${conversation('C0INCIDENT')} (${code('007_add_security_tables.ts')}). Asked by ${user('U0ONCALL')}: ${quote('db is on fire')}.`;

  it('Slack: mrkdwn with mentions for Slack ids and code, bold and italics for what they mark', () => {
    expect(wordsMrkdwn(refusal)).toBe(
      'A rollback of *ticket-service* is already open in <#C0INCIDENT> (`007_add_security_tables.ts`). Asked by <@U0ONCALL>: _db is on fire_.',
    );
  });

  it('CLI: plain text, no mention, bold, italics or emoji; code keeps its backticks', () => {
    const text = wordsPlain(refusal);
    expect(text).toBe(
      'A rollback of ticket-service is already open in #C0INCIDENT (`007_add_security_tables.ts`). Asked by @U0ONCALL: db is on fire.',
    );
    expect(text).not.toMatch(/<@|<#|<!|\*[^*\s][^*]*\*|:[a-z_]+:/);
  });

  it('Slack: text a person or a database wrote cannot become a mention, a broadcast or a link, in any part', () => {
    for (const w of [
      words`${HOSTILE}`,
      words`${strong(HOSTILE)}`,
      words`${quote(HOSTILE)}`,
      words`${code(HOSTILE)}`,
      words`${user(HOSTILE)}`,
      words`${conversation(HOSTILE)}`,
      asWords(HOSTILE),
    ]) {
      const out = wordsMrkdwn(w);
      expect(out).not.toMatch(/<!channel>|<https?:|<@U0ATTACKER>/);
      expect(out).toContain('&lt;!channel&gt;');
    }
  });

  it('Slack: a marker inside bold, italics or code cannot end the span early', () => {
    expect(wordsMrkdwn(words`${strong('a*b')}`)).toBe('*a b*');
    expect(wordsMrkdwn(words`${quote('x_y')}`)).toBe('_x y_');
    expect(wordsMrkdwn(words`${code('a`b')}`)).toBe("`a'b`");
  });

  it('approvers: people and user groups, each surface its own way', () => {
    const w = approverWords(['U0SAM', 'S0SREGROUP']);
    expect(wordsMrkdwn(w)).toBe('<@U0SAM>, <!subteam^S0SREGROUP>');
    expect(wordsPlain(w)).toBe('@U0SAM, @S0SREGROUP');
  });

  it('joins, numbers, nesting and the one error-to-words path', () => {
    expect(wordsPlain(joinWords([code('a'), code('b')], ' and '))).toBe('`a` and `b`');
    expect(wordsPlain(words`${3} of ${2n} ${words`nested ${strong('x')}`}`)).toBe('3 of 2 nested x');
    const err = new AppError({
      code: 'x',
      message: 'internal detail',
      userMessage: words`Use ${code('/migrate retry')}.`,
    });
    expect(errorMrkdwn(err)).toBe(':warning: Use `/migrate retry`.');
    expect(wordsPlain(userMessageOf(new Error('secret internals')))).not.toContain('secret internals');
  });

  it('words survive JSON (failures are stored with the incident)', () => {
    expect(wordsMrkdwn(JSON.parse(JSON.stringify(refusal)))).toBe(wordsMrkdwn(refusal));
  });
});

/** Source lines of `dir`, recursively, without comment lines. */
function codeLines(dir: string): { file: string; line: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return codeLines(path);
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
      .map((line) => ({ file: path, line }));
  });
}

describe('the domain writes no Slack markup', () => {
  it('no mention, broadcast, bold name, italic quote or emoji code in src/domain (the postmortem is Markdown, its ** stays)', () => {
    const offending = codeLines(join(__dirname, '../../../src/domain')).filter(({ line }) =>
      /<@\$|<#\$|<!(subteam|channel|here|date)|(?<!\*)\*\$\{|_\$\{[a-zA-Z.]+\}_|'(:[a-z_]+:)'|`:[a-z_]+: /.test(line),
    );
    expect(offending).toEqual([]);
  });
});
