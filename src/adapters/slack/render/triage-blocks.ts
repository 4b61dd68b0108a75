import { slackDate } from './limits.js';
import { formatDuration, utcSecondStamp } from '../../../shared/clock.js';
import { redactSecrets } from '../../../shared/redact.js';
import {
  overallVerdict,
  type CheckResult,
  type TriageReport,
  type Verdict,
} from '../../../domain/triage/triage-report.js';
import type { KnownBlock } from './block-kit.js';
import { clip as cut, escapeMrkdwn, LIMITS } from './limits.js';
import { renderTextTable } from '../../../shared/text-table.js';

export type { KnownBlock } from './block-kit.js';

/** Slack limit: characters of a section block's text (`LIMITS.sectionText`). */
export const SLACK_SECTION_TEXT_MAX = LIMITS.sectionText;
/** Slack limit: characters of a header block's text (`LIMITS.headerText`). */
export const SLACK_HEADER_TEXT_MAX = LIMITS.headerText;
/** Slack limit: blocks per message (`LIMITS.blocks`). */
export const SLACK_MAX_BLOCKS = LIMITS.blocks;
/** Longest cell shown in the message, characters; the attached file has the full value. */
export const MESSAGE_CELL_MAX = 40;
/** Longest query text shown in the message (columns named `…query…`), characters. */
export const MESSAGE_QUERY_CELL_MAX = 80;
const messageCellMax = (column: string): number =>
  column.includes('query') ? MESSAGE_QUERY_CELL_MAX : MESSAGE_CELL_MAX;
/** Longest one-line summary per check in the overview, characters. */
const OVERVIEW_LINE_MAX = 400;

/** A file for the lead to upload in the thread with `files.uploadV2` (plain text). */
export interface TriageFile {
  filename: string;
  title: string;
  content: string;
}

/** A ready-to-post triage message. */
export interface TriageMessageParts {
  /** Notification / fallback text. */
  text: string;
  blocks: KnownBlock[];
  /** Full result tables when the message had to cut anything; empty otherwise. */
  files: TriageFile[];
}

const EMOJI: Record<Verdict, string> = { ok: ':white_check_mark:', attention: ':warning:', failed: ':x:' };

/** Escapes the three characters Slack mrkdwn reserves (&, <, >), after redacting secrets. */
const esc = (text: string): string => escapeMrkdwn(redactSecrets(text));
/** Text that cannot close a code block early. */
const codeSafe = (text: string): string => esc(text).replace(/```/g, "'''");
const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

/** One overview line per check: emoji, title, time, summary. */
function overviewLines(report: TriageReport): string[] {
  return report.checks.map((c) =>
    cut(
      `${EMOJI[c.verdict]} *${esc(c.title)}* (${formatDuration(c.durationMs)}) — ${esc(c.summary)}`,
      OVERVIEW_LINE_MAX,
    ),
  );
}

/** Packs lines into section texts of at most `max` characters each. */
function packLines(lines: string[], max: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const line of lines) {
    const next = current ? `${current}\n${line}` : line;
    if (next.length <= max) current = next;
    else {
      if (current) out.push(current);
      current = cut(line, max);
    }
  }
  if (current) out.push(current);
  return out;
}

/**
 * One check's detail section: title and source, then its error or a table of as
 * many rows as fit in {@link SLACK_SECTION_TEXT_MAX} characters, then
 * "… N more rows in the attached file" when rows were left out.
 * @returns the text and whether anything (rows or cell text) was left out
 */
function detailSection(check: CheckResult): { text: string; truncated: boolean } {
  const head = `${EMOJI[check.verdict]} *${esc(check.title)}* · runbook ${esc(check.source)}`;
  if (check.verdict === 'failed')
    return { text: cut(`${head}\n${esc(check.error ?? check.summary)}`, SLACK_SECTION_TEXT_MAX), truncated: false };

  const { lines, cut: cellsCut } = renderTextTable(check.columns, check.rows, messageCellMax);
  const safeLines = lines.map((l) => cut(codeSafe(l), 600));
  const moreNote = (n: number): string =>
    `\n… ${n.toLocaleString('en-US')} more ${n === 1 ? 'row' : 'rows'} in the attached file`;
  const reserve = moreNote(check.rows.length).length + '\n_long values cut; full text in the attached file_'.length;
  let body = `${head}\n\`\`\``;
  let shown = 0;
  for (const [i, line] of safeLines.entries()) {
    const closing = '\n```';
    if (body.length + 1 + line.length + closing.length + reserve > SLACK_SECTION_TEXT_MAX) break;
    body += `\n${line}`;
    if (i >= 2) shown += 1;
  }
  body += '\n```';
  const hidden = check.rows.length - shown;
  if (hidden > 0) body += moreNote(hidden);
  else if (cellsCut) body += '\n_long values cut; full text in the attached file_';
  return { text: body, truncated: hidden > 0 || cellsCut };
}

/** The full report as plain text: every check, its summary, error and complete table. */
export function triageReportText(report: TriageReport): string {
  const parts = [
    `Triage of ${report.service}: ${overallVerdict(report)}`,
    `Started ${report.startedAt}, took ${formatDuration(report.durationMs)} (${report.durationMs} ms)`,
  ];
  for (const c of report.checks) {
    parts.push(
      '',
      `== ${c.title} [${c.name}] — ${c.verdict} (${c.durationMs} ms)`,
      `Source: runbook ${c.source}`,
      `Summary: ${c.summary}`,
    );
    if (c.error) parts.push(`Error: ${c.error}`);
    if (c.rows.length > 0)
      parts.push(
        ...renderTextTable(c.columns, c.rows).lines,
        `(${c.rows.length} ${c.rows.length === 1 ? 'row' : 'rows'})`,
      );
  }
  return redactSecrets(`${parts.join('\n')}\n`);
}

/**
 * Builds the Block Kit message for a triage report (runbook 003 "Initial triage"): a header with the
 * overall verdict, a context line (start time in the reader's time zone, total
 * triage time, counts), one line per check (emoji verdict, title, time, summary),
 * then a detail section per check that failed or has rows.
 *
 * Within Slack's limits: header ≤ 150 characters, each section text ≤ 3,000
 * characters, ≤ 50 blocks. What does not fit (rows, long cell values, whole
 * detail sections) is left out with "… N more rows in the attached file", and the
 * complete tables go into one plain-text file in `files` for `files.uploadV2`.
 * Secrets are redacted from every text. Pure.
 */
export function triageMessage(report: TriageReport, options: { heading?: string } = {}): TriageMessageParts {
  const overall = overallVerdict(report);
  const counts = (['ok', 'attention', 'failed'] as const)
    .map((v) => `${report.checks.filter((c) => c.verdict === v).length} ${v}`)
    .join(', ');
  const heading = options.heading ?? `Triage: ${report.service}`;
  const startedAt = new Date(report.startedAt);

  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: cut(redactSecrets(`${EMOJI[overall]} ${heading} — ${overall}`), SLACK_HEADER_TEXT_MAX),
        emoji: true,
      },
    },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Started ${slackDate(startedAt)} · total triage time *${formatDuration(report.durationMs)}* · ${counts}`,
        },
      ],
    },
    ...packLines(overviewLines(report), SLACK_SECTION_TEXT_MAX).map(section),
  ];

  const details = report.checks.filter((c) => c.verdict === 'failed' || c.rows.length > 0);
  let truncated = false;
  let omitted = 0;
  if (details.length > 0) blocks.push({ type: 'divider' });
  for (const check of details) {
    if (blocks.length >= SLACK_MAX_BLOCKS - 1) {
      omitted += 1;
      continue;
    }
    const detail = detailSection(check);
    truncated ||= detail.truncated;
    blocks.push(section(detail.text));
  }
  if (omitted > 0) {
    truncated = true;
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `… details of ${omitted} more ${omitted === 1 ? 'check' : 'checks'} in the attached file`,
        },
      ],
    });
  }

  const files: TriageFile[] = truncated
    ? [
        {
          filename: `triage-${report.service}-${utcSecondStamp(startedAt)}.txt`,
          title: `Full triage results: ${report.service}`,
          content: triageReportText(report),
        },
      ]
    : [];
  const problems = report.checks.filter((c) => c.verdict !== 'ok').map((c) => `${c.name} ${c.verdict}`);
  const text = redactSecrets(
    `Triage of ${report.service}: ${overall} in ${formatDuration(report.durationMs)}${problems.length ? ` (${problems.join(', ')})` : ''}`,
  );
  return { text: cut(text, LIMITS.fallbackText), blocks: blocks.slice(0, SLACK_MAX_BLOCKS), files };
}

/** The incident channel's triage: a short top-level verdict and, in its thread, the tables. */
export interface ChannelTriage {
  /** Top-level: one line per check that needs attention or failed, then "n checks ok". */
  headline: { text: string; blocks: KnownBlock[] };
  /** Thread reply under it: the tables of the checks that need attention (passed checks show none), or null. */
  details: { text: string; blocks: KnownBlock[] } | null;
  /** Full tables as a file in the thread, when the reply had to cut anything. */
  files: TriageFile[];
}

/**
 * Triage as the incident channel shows it (Slack's message guidelines: short top-level messages,
 * details in threads): a headline that fits a phone screen — the overall verdict, one line per
 * check that needs attention or failed (title and summary, no timings), and "n checks ok" — and
 * a thread reply with the tables of those checks only. Timings stay in the file and the timeline.
 * Pure; secrets redacted.
 */
export function channelTriage(report: TriageReport): ChannelTriage {
  const overall = overallVerdict(report);
  const notOk = report.checks.filter((c) => c.verdict !== 'ok');
  const ok = report.checks.length - notOk.length;
  const lines = notOk.map((c) => cut(`${EMOJI[c.verdict]} *${esc(c.title)}* — ${esc(c.summary)}`, 200));
  const okLine =
    notOk.length === 0
      ? `all ${ok} checks ok.`
      : `${ok ? `${ok} other check${ok === 1 ? '' : 's'} ok` : 'no check passed'}${notOk.some((c) => c.rows.length || c.error) ? ', details in the thread' : ''}.`;
  const headText = `${EMOJI[overall]} *Triage of ${esc(report.service)}: ${overall === 'ok' ? 'all clear' : overall === 'attention' ? 'needs attention' : 'some checks failed'}*`;
  const headline = {
    text: cut(
      redactSecrets(
        `Triage of ${report.service}: ${overall}${notOk.length ? ` (${notOk.map((c) => `${c.title} ${c.verdict}`).join(', ')})` : ''}`,
      ),
      LIMITS.fallbackText,
    ),
    blocks: [section([`${headText} — ${okLine}`, ...lines].join('\n'))],
  };
  const detailed = notOk.filter((c) => c.verdict === 'failed' || c.rows.length > 0);
  if (!detailed.length) return { headline, details: null, files: [] };
  let truncated = false;
  const blocks: KnownBlock[] = [];
  for (const check of detailed.slice(0, SLACK_MAX_BLOCKS - 1)) {
    const d = detailSection(check);
    truncated ||= d.truncated;
    blocks.push(section(d.text));
  }
  truncated ||= detailed.length > SLACK_MAX_BLOCKS - 1;
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Started ${slackDate(new Date(report.startedAt))} · ${report.checks.length} checks in ${formatDuration(report.durationMs)}`,
      },
    ],
  });
  return {
    headline,
    details: { text: `Triage details: ${report.service}`, blocks },
    files: truncated
      ? [
          {
            filename: `triage-${report.service}-${utcSecondStamp(new Date(report.startedAt))}.txt`,
            title: `Full triage results: ${report.service}`,
            content: triageReportText(report),
          },
        ]
      : [],
  };
}
