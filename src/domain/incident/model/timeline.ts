import { isWords, type WordsLike, wordsPlain } from '../../../shared/words.js';
import type { Incident } from './incident.js';
import type { IncidentEventRecord } from '../ports/incident-repository.js';
import { shortId } from './incident.js';
import type { FollowUp } from '../process/followup.js';
import { MILESTONE_WORDS, recoveryDurations, shortDuration } from '../process/lifecycle.js';

/** What one event of the log says, for people (the log's type and data in words). */
export function eventWords(e: IncidentEventRecord): string {
  const d = e.data;
  const list = (v: unknown): string => (Array.isArray(v) ? v.map((x) => `\`${String(x)}\``).join(', ') : '');
  switch (e.type) {
    case 'opened':
      return `opened the ${String(d.kind ?? 'rollback')} of \`${String(d.migration ?? '?')}\`${Array.isArray(d.steps) && d.steps.length ? ` (${d.steps.length} down migration(s): ${list(d.steps)})` : ''}`;
    case 'channel_created':
      return `incident channel created${d.channelName ? ` (#${String(d.channelName)})` : ''}`;
    case 'risk_assessed':
      return `risk assessed: ${d.destructive ? 'destructive' : 'no data loss or security change'}${Array.isArray(d.findings) ? ` (${d.findings.length} finding(s))` : ''}`;
    case 'archive_planned':
      return `planned the archive before destroy: ${Array.isArray(d.copies) ? d.copies.length : 0} table(s)${Array.isArray(d.refused) && d.refused.length ? `, ${d.refused.length} not archived` : ''}`;
    case 'archive_created':
      return `archived ${String(d.object)} to \`${String(d.table)}\` before the down of \`${String(d.migration)}\`: ${String(d.rows)} row(s), ${String(d.bytes)} bytes`;
    case 'archive_dropped':
      return `dropped the archive table \`${String(d.table)}\` (${String(d.rows)} row(s))${d.forced ? ' before archive.keep_days' : ''}`;
    case 'schema_checked':
      return `checked the plan against the schemas in ${String(d.ms)} ms: ${d.error ? `could not run (${String(d.error)})` : `downs ${String(d.downs).replace(/_/g, ' ')}, live schema matches ${String(d.live)}${d.computed ? ', computed plan available' : ''}`}`;
    case 'scratch_created':
      return `created scratch database \`${String(d.database)}\``;
    case 'scratch_dropped':
      return `dropped scratch database \`${String(d.database)}\``;
    case 'computed_plan_taken':
      return `replaced the files' plan with the computed plan (${String(d.statements)} statement(s)): ${String(d.reason)}`;
    case 'plan_warnings':
      return `plan warning: ${Array.isArray(d.warnings) ? d.warnings.join(' ') : ''}`;
    case 'snapshot_started':
      return 'snapshot started';
    case 'snapshot_ready':
      return `snapshot available${d.snapshotId ? `: \`${String(d.snapshotId)}\`` : ''}`;
    case 'approval_given':
      return 'approved';
    case 'approval_recorded':
      return `recorded by ${String(d.operator)} on behalf of ${String(d.approver)} (CLI, Slack unavailable): ${String(d.reason ?? '')}`;
    case 'break_glass':
      return `invoked BREAK GLASS: ${String(d.reason ?? '')}`;
    case 'plan_superseded':
      return `plan superseded, approvals voided: ${Array.isArray(d.changes) ? d.changes.join('; ') : ''}`;
    case 'rehearsal_requested':
      return 'asked for a rehearsal on a copy';
    case 'rehearsal_done':
      return `rehearsal ${d.passed ? 'passed' : 'failed'}${isWordsLike(d.error) ? `: ${wordsPlain(d.error)}` : ''}`;
    case 'expected_schema_built':
      return `built the expected schema for verification (${String(d.objects)} objects, ${String(d.builtMs)} ms${d.cached ? ', already kept' : ''})`;
    case 'rollback_started':
      return 'rollback started';
    case 'step_done':
      return `down migration of \`${String(d.migration)}\` done in ${String(d.durationMs)} ms`;
    case 'stop_requested':
      return `${d.force ? 'stopped the running step (close --force)' : 'asked to stop the rollback'}${d.reason ? `: ${String(d.reason)}` : ''}`;
    case 'rollback_succeeded':
      return `rolled back; verification passed${d.head ? `; tracking table head \`${String(d.head)}\`` : ''}`;
    case 'verified_with_warnings':
      return `rolled back; verification FAILED: ${
        Array.isArray(d.checks)
          ? (d.checks as Array<{ name: string; status: string }>)
              .filter((c) => c.status === 'failed')
              .map((c) => c.name)
              .join(', ')
          : ''
      }`;
    case 'verified':
      return `ran /migrate verify: ${d.passed ? 'passed' : 'failed'}`;
    case 'failed':
      return `failed: ${isFailure(d.failure) ? wordsPlain(d.failure.message) : ''}`;
    case 'rejected':
      return 'rejected the plan';
    case 'closed':
      return `closed the incident${d.reason ? `: ${String(d.reason)}` : ''}`;
    case 'acknowledged':
      return `acknowledged the failed verification${d.reason ? `: ${String(d.reason)}` : ''}`;
    case 'retried':
      return 'started a new round (/migrate retry)';
    case 'status_update_posted':
      return 'status update posted';
    case 'human_update':
      return `update: ${String(d.text ?? '')}`;
    case 'severity_changed':
      return `severity ${d.from ? `${String(d.from)} → ` : ''}${String(d.to)}${d.reason ? `: ${String(d.reason)}` : ''}`;
    case 'role_assigned':
      return `${String(d.user)} is ${d.role === 'comms' ? 'comms lead' : 'incident commander'}${d.previous ? ` (was ${String(d.previous)})` : ''}`;
    case 'impact_started_set':
      return `impact started at ${String(d.at)}`;
    case 'page_sent':
      return `paged through ${String(d.provider)}: ${String(d.summary ?? '')}`;
    case 'page_resolved':
      return `page resolved (${String(d.provider)})`;
    case 'page_failed':
      return `page could not be sent: ${String(d.error ?? '')}`;
    case 'followup_added':
    case 'followup_taken':
      return `follow-up: ${String(d.text ?? '')}`;
    case 'followup_created':
      return `follow-up filed as ${String((d.ticket as { key?: string } | undefined)?.key ?? '?')}: ${String(d.text ?? '')}`;
    case 'followup_export_failed':
      return `follow-up NOT exported (${String(d.error ?? '')}): ${String(d.text ?? '')}`;
    default:
      return `${e.type.replace(/_/g, ' ')}${e.toState ? ` (${e.fromState ?? '?'} → ${e.toState})` : ''}`;
  }
}

const isWordsLike = (v: unknown): v is WordsLike => (typeof v === 'string' && v !== '') || isWords(v);
const isFailure = (v: unknown): v is { message: WordsLike } =>
  typeof v === 'object' && v !== null && isWordsLike((v as { message?: unknown }).message);
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const utc = (d: Date): string =>
  d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

/**
 * The incident's timeline and a postmortem draft, in Markdown, from the append-only event log
 * (runbook 003 "Post-incident: postmortem & corrective actions": timeline, root cause,
 * detection & mitigation actions, permanent fixes): who did what when, every command, approval,
 * step and its duration, the verification, then the runbook's questions to answer.
 * @param events the incident's events, oldest first
 */
export function timelineMarkdown(
  incident: Incident,
  events: readonly IncidentEventRecord[],
  extra: { ticketUrl?: string | null; followUps?: readonly FollowUp[] } = {},
): string {
  const times = recoveryDurations(incident.milestones);
  const duration = incident.endedAt
    ? Math.round((incident.endedAt.getTime() - incident.createdAt.getTime()) / 1000)
    : null;
  const lines = [
    `# Incident ${shortId(incident.id)} — ${incident.kind} of \`${incident.migration}\` on ${incident.service}`,
    '',
    `- State: **${incident.state.replace(/_/g, ' ')}**${duration !== null ? ` after ${Math.floor(duration / 60)} min ${duration % 60} s` : ' (still open)'}`,
    `- Opened: ${utc(incident.createdAt)} by ${incident.requestedBy}${incident.conversation ? ` in #${incident.conversation.name}` : ''}`,
    ...(incident.snapshot ? [`- Snapshot: \`${incident.snapshot.id}\` (${incident.snapshot.provider})`] : []),
    ...(incident.basis ? [`- Plan digest: \`${incident.basis.digest}\``] : []),
    ...(incident.breakGlass ? [`- BREAK GLASS by ${incident.breakGlass.by}: ${incident.breakGlass.reason}`] : []),
    ...(incident.severity
      ? [`- Severity: **${incident.severity}**${incident.private ? ' (private incident)' : ''}`]
      : []),
    `- Incident commander: ${incident.roles.commander}; comms lead: ${incident.roles.comms ?? 'none'}`,
    ...(incident.ticket
      ? [`- Ticket: [${incident.ticket.key}](${incident.ticket.url})`]
      : extra.ticketUrl
        ? [`- Ticket: ${extra.ticketUrl}`]
        : []),
    ...(times.timeToApproveMs !== undefined ? [`- Time to approve: ${shortDuration(times.timeToApproveMs)}`] : []),
    ...(times.timeToRecoverMs !== undefined ? [`- Time to recover: ${shortDuration(times.timeToRecoverMs)}`] : []),
    ...(times.impactMs !== undefined && (incident.milestones.recovered || incident.milestones.resolved)
      ? [
          `- Total impact: ${shortDuration(times.impactMs)}${incident.milestones.impactStarted ? '' : ' (from detection; set `/migrate impact-started`)'}`,
        ]
      : []),
    ...(incident.failure ? [`- Failure: ${wordsPlain(incident.failure.message)}`] : []),
    '',
    '## Timeline (UTC)',
    '',
    '| time | who | what |',
    '| --- | --- | --- |',
    ...events.map((e) => `| ${utc(e.at)} | ${cell(e.actor)} | ${cell(eventWords(e))} |`),
    '',
  ];
  if (incident.plan.length) {
    lines.push('## Down migrations', '', '| migration | status | duration |', '| --- | --- | --: |');
    for (const s of incident.plan) {
      const o = incident.steps.find((x) => x.migration === s.migration);
      lines.push(
        `| \`${s.migration}\` | ${o?.status.replace('_', ' ') ?? 'not run'}${o?.error ? `: ${cell(wordsPlain(o.error))}` : ''} | ${o?.durationMs !== undefined ? `${o.durationMs} ms` : ''} |`,
      );
    }
    lines.push('');
  }
  const archived = incident.steps.flatMap((o) => (o.archived ?? []).map((a) => ({ ...a, migration: o.migration })));
  if (archived.length) {
    lines.push(
      '## Archived before destroy',
      '',
      '| archive table | what it keeps | before the down of | rows | bytes |',
      '| --- | --- | --- | --: | --: |',
    );
    for (const a of archived)
      lines.push(`| \`${a.table}\` | ${cell(a.object)} | \`${a.migration}\` | ${a.rows} | ${a.bytes} |`);
    lines.push('');
  }
  const verification = [...events]
    .reverse()
    .find((e) => e.type === 'rollback_succeeded' || e.type === 'verified_with_warnings');
  const checks = (verification?.data.checks ?? []) as Array<{
    name: string;
    status: string;
    durationMs: number;
    problems?: string[];
  }>;
  if (checks.length) {
    lines.push('## Verification', '', '| check | result | ms | problems |', '| --- | --- | --: | --- |');
    for (const c of checks)
      lines.push(`| ${c.name} | ${c.status} | ${c.durationMs} | ${cell((c.problems ?? []).join('; '))} |`);
    lines.push('');
  }
  const milestones = MILESTONE_WORDS.filter(([k]) => incident.milestones[k]);
  if (milestones.length) {
    lines.push('## Lifecycle (UTC)', '', '| milestone | time |', '| --- | --- |');
    for (const [k, label] of milestones) lines.push(`| ${label} | ${utc(new Date(incident.milestones[k]!))} |`);
    lines.push('');
  }
  const followUps = (extra.followUps ?? []).filter((f) => f.state !== 'proposed');
  if (followUps.length) {
    lines.push('## Follow-ups', '');
    for (const f of followUps)
      lines.push(
        `- [ ] ${cell(f.text)}${f.owner ? ` (owner ${f.owner})` : ''}${f.ticket ? ` — [${f.ticket.key}](${f.ticket.url})` : f.state === 'export_failed' ? ` — not exported: ${cell(f.error ?? '')}` : ''}`,
      );
    lines.push('');
  }
  lines.push(
    '## Postmortem draft (runbook 003 "Post-incident")',
    '',
    '- **Root cause:** _what in the migration went wrong, and why it reached production_',
    '- **Detection:** _how and when it was noticed; could it have been sooner?_',
    '- **Mitigation actions:** _what was done, from the timeline above_',
    '- **Permanent fixes:** _what changes so it cannot happen again_',
    '- **Corrective actions to consider:** improve migration tests and preflight procedures; enforce backup-before-migration and verify restore steps; adopt add → backfill → enforce; add guardrails for destructive operations and limit automatic backfills.',
    '',
  );
  return lines.join('\n');
}
