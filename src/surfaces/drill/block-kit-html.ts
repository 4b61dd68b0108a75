/**
 * Block Kit to HTML for the drill console: the blocks migrate-bot posts (header, section with
 * text and fields, context, divider, actions with buttons, and a modal's input) rendered as
 * Slack lays them out, with Slack's mrkdwn (docs.slack.dev "Formatting text for app
 * surfaces": *bold*, _italic_, ~strike~, `code`, ```pre```, <url|text>, <#C…>, <@U…>,
 * :emoji:). Everything is HTML-escaped first; a button carries its action_id and value in
 * data attributes for the console's script.
 */

import { SLACK_EMOJI } from '../../adapters/slack/render/emoji.js';

type Block = Record<string, unknown>;
type Text = { type?: string; text?: string } | undefined;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** How the console names channels and users inside mrkdwn (`<#C…>`, `<@U…>`). */
export interface NameLookup {
  channel(id: string): string | undefined;
  user(id: string): string | undefined;
}

/** Slack mrkdwn → HTML (escaped first, then Slack's markup). */
export function mrkdwnToHtml(text: string, names: NameLookup): string {
  const pre: string[] = [];
  let s = text.replace(/```([\s\S]*?)```/g, (_, body: string) => `\u0000${pre.push(body) - 1}\u0000`);
  const links: string[] = [];
  s = s.replace(/<([^<>|]+)(?:\|([^<>]*))?>/g, (_, target: string, label?: string) => {
    let html: string;
    if (target.startsWith('!date^'))
      html = escapeHtml(
        new Date(Number(target.split('^')[1]) * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
      );
    else if (target.startsWith('#'))
      html = `<a href="#" class="mention" data-goto="${escapeHtml(target.slice(1))}">#${escapeHtml(label || names.channel(target.slice(1)) || target.slice(1))}</a>`;
    else if (target.startsWith('@'))
      html = `<span class="mention">@${escapeHtml(names.user(target.slice(1)) ?? target.slice(1))}</span>`;
    else if (target.startsWith('!')) html = `<span class="mention">@${escapeHtml(label || target.slice(1))}</span>`;
    else html = `<a href="${escapeHtml(target)}" target="_blank" rel="noreferrer">${escapeHtml(label || target)}</a>`;
    return `\u0001${links.push(html) - 1}\u0001`;
  });
  // Literal <, > and & arrive as Slack's entities (markup is never escaped): decode, then escape everything once.
  s = decodeEntities(s);
  s = escapeHtml(s)
    .replace(/`([^`\n]+)`/g, '<code>$1</code>')
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, '$1<b>$2</b>')
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, '$1<i>$2</i>')
    .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/g, '$1<s>$2</s>')
    .replace(/^&gt; ?(.*)$/gm, '<blockquote>$1</blockquote>')
    .replace(/\n/g, '<br>');
  s = emojify(s);
  s = s.replace(/\u0001(\d+)\u0001/g, (_, i: string) => links[Number(i)]!);
  return s.replace(/\u0000(\d+)\u0000/g, (_, i: string) => `<pre>${escapeHtml(decodeEntities(pre[Number(i)]!))}</pre>`);
}

/** Slack's three entities in message text (docs.slack.dev "Escaping text"). */
function decodeEntities(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** `:name:` → the emoji, as Slack shows it; unknown names stay as typed. */
function emojify(html: string): string {
  return html.replace(/:([a-z0-9_+-]+):/g, (m, name: string) => SLACK_EMOJI[name] ?? m);
}

function textHtml(t: Text, names: NameLookup): string {
  if (!t?.text) return '';
  return t.type === 'mrkdwn' ? mrkdwnToHtml(t.text, names) : emojify(escapeHtml(t.text)).replace(/\n/g, '<br>');
}

function buttonHtml(el: Block, context: { channel: string; ts: string }, names: NameLookup): string {
  const style = el.style === 'primary' || el.style === 'danger' ? ` ${String(el.style)}` : '';
  if (typeof el.url === 'string')
    return `<a class="button${style}" href="${escapeHtml(el.url)}" target="_blank" rel="noreferrer">${escapeHtml((el.text as Text)?.text ?? '')}</a>`;
  // Block Kit's confirm dialog (title, text, confirm, deny), shown by the console before the press counts.
  const c = el.confirm as { title?: Text; text?: Text; confirm?: Text; deny?: Text } | undefined;
  const confirm = c
    ? JSON.stringify({
        title: escapeHtml(c.title?.text ?? 'Are you sure?'),
        html: textHtml(c.text, names),
        confirm: escapeHtml(c.confirm?.text ?? 'Yes'),
        deny: escapeHtml(c.deny?.text ?? 'Cancel'),
      })
    : '';
  const attrs = [
    ['action-id', el.action_id],
    ['value', el.value],
    ['channel', context.channel],
    ['ts', context.ts],
    ...(confirm ? [['confirm', confirm]] : []),
  ]
    .map(([k, v]) => `data-${k}="${escapeHtml(String(v ?? ''))}"`)
    .join(' ');
  return `<button class="block-button${style}" ${attrs}>${escapeHtml((el.text as Text)?.text ?? '')}</button>`;
}

/**
 * Renders a message's (or a modal's) blocks; `context` is the message a button press refers to.
 * Unknown block types render as a note, so a new block never disappears silently.
 */
export function blocksToHtml(
  blocks: readonly unknown[],
  names: NameLookup,
  context: { channel: string; ts: string },
): string {
  return blocks
    .map((raw) => {
      const b = raw as Block;
      switch (b.type) {
        case 'header':
          return `<div class="block header">${textHtml(b.text as Text, names)}</div>`;
        case 'divider':
          return '<hr class="block divider">';
        case 'section': {
          const fields = Array.isArray(b.fields)
            ? `<div class="fields">${(b.fields as Text[]).map((f) => `<div>${textHtml(f, names)}</div>`).join('')}</div>`
            : '';
          const accessory =
            (b.accessory as Block | undefined)?.type === 'button'
              ? buttonHtml(b.accessory as Block, context, names)
              : '';
          return `<div class="block section"><div class="section-text">${textHtml(b.text as Text, names)}${fields}</div>${accessory}</div>`;
        }
        case 'context':
          return `<div class="block context">${((b.elements as Text[]) ?? []).map((e) => `<span>${textHtml(e, names)}</span>`).join(' ')}</div>`;
        case 'actions':
          return `<div class="block actions">${((b.elements as Block[]) ?? [])
            .filter((e) => e.type === 'button')
            .map((e) => buttonHtml(e, context, names))
            .join('')}</div>`;
        case 'markdown':
          return `<div class="block section">${mrkdwnToHtml(String(b.text ?? ''), names)}</div>`;
        case 'input': {
          const el = (b.element as Block) ?? {};
          const placeholder = escapeHtml(((el.placeholder as Text)?.text ?? '') as string);
          return `<label class="block input">${textHtml(b.label as Text, names)}<input type="text" data-block-id="${escapeHtml(String(b.block_id ?? ''))}" data-action-id="${escapeHtml(String(el.action_id ?? ''))}" placeholder="${placeholder}"></label>`;
        }
        default:
          return `<div class="block unknown">(${escapeHtml(String(b.type))} block)</div>`;
      }
    })
    .join('');
}
