import { codeSpan } from './words-mrkdwn.js';
import type { KnownBlock } from './block-kit.js';
import type { VerificationResult } from '../../../domain/incident/ports/notifier.js';
import { clip, LIMITS } from './limits.js';
import { redactSecrets } from '../../../shared/redact.js';

const ICON = { passed: ':white_check_mark:', failed: ':x:', skipped: ':white_circle:' } as const;
/** Problems listed per failed check; the rest are counted. */
const MAX_PROBLEMS = 8;

/** The checks, one line each with their time, and what failed under each failed one. */
export function checkLines(v: VerificationResult): string {
  return v.checks
    .map((c) => {
      const head = `${ICON[c.status]} *${c.title}* — ${c.detail} (${c.durationMs} ms)`;
      if (c.status !== 'failed' || !c.problems.length) return head;
      const shown = c.problems.slice(0, MAX_PROBLEMS).map((p) => `      • ${p}`);
      const more = c.problems.length - shown.length;
      return [head, ...shown, ...(more > 0 ? [`      … and ${more} more`] : [])].join('\n');
    })
    .join('\n');
}

/** A section of check lines, cut to Slack's section limit. */
export function checksBlock(v: VerificationResult): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(redactSecrets(checkLines(v)), LIMITS.sectionText) } };
}

/** `/migrate verify` (runbook 001 `--postflight`): the same checks as after a rollback, any time. */
export function verificationMessage(service: string, v: VerificationResult): { text: string; blocks: KnownBlock[] } {
  const failed = v.checks.filter((c) => c.status === 'failed');
  const text = failed.length
    ? `Verification of ${service}: ${failed.length} of ${v.checks.length} checks failed (${failed.map((c) => c.name).join(', ')}).`
    : `Verification of ${service} passed (${v.checks.filter((c) => c.status === 'passed').length} checks, ${v.checks.filter((c) => c.status === 'skipped').length} skipped).`;
  return {
    text,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `${failed.length ? ':warning:' : ':white_check_mark:'} *${text}*` },
      },
      checksBlock(v),
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `Tracking table head: ${v.head ? `${codeSpan(v.head)}` : '(empty)'} · took ${v.durationMs} ms · read-only`,
          },
        ],
      },
    ],
  };
}
