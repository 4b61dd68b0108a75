import { formatBytes } from '../../../domain/triage/safe-value.js';
import { dropArchive, listArchives } from '../../../domain/incident/use-cases/archive-retention.js';
import { openUnarchive } from '../../../domain/incident/use-cases/unarchive.js';
import { shortId } from '../../../domain/incident/model/incident.js';
import { codeSpan, wordsMrkdwn } from '../../../adapters/slack/render/words-mrkdwn.js';
import { escapeMrkdwn } from '../../../adapters/slack/render/limits.js';
import type { SurfaceDeps } from '../../surface-deps.js';
import type { MigrateCommand } from '../parse-command.js';

/** `/migrate archive list|drop` and `/migrate unarchive`. */
export type ArchiveCommand = Extract<MigrateCommand, { kind: 'archive' | 'unarchive' }>;

/**
 * Runs `/migrate archive list|drop` or `/migrate unarchive` for the user and returns the ephemeral
 * answer: the archive tables (one line each: name, what it keeps, rows, size, incident, kept
 * until), what was dropped, or the unarchive incident being opened.
 * Throws what the use case throws.
 */
export async function runArchiveCommand(
  deps: SurfaceDeps,
  cmd: ArchiveCommand,
  input: { userId: string; responseUrl?: string },
): Promise<string> {
  const { userId } = input;
  if (cmd.kind === 'unarchive') {
    const incident = await openUnarchive(deps, {
      service: cmd.service,
      incident: cmd.incident,
      ...(cmd.table ? { table: cmd.table } : {}),
      ...(cmd.onConflict ? { onConflict: cmd.onConflict } : {}),
      requestedBy: userId,
      ...(input.responseUrl ? { responseUrl: input.responseUrl } : {}),
    });
    return `Opening unarchive incident ${codeSpan(shortId(incident.id))}: ${incident.plan.length} archive table${incident.plan.length === 1 ? '' : 's'} to write back after a snapshot and approvals. The channel link follows as soon as it exists.`;
  }
  if (cmd.action === 'drop')
    return wordsMrkdwn(
      await dropArchive(deps, { service: cmd.service, userId, table: cmd.table!, force: cmd.force === true }),
    );
  const { service, schema, keepDays, tables } = await listArchives(deps, cmd.service, userId);
  if (!tables.length) return `No archive tables in ${codeSpan(schema)} of *${escapeMrkdwn(service)}*.`;
  const lines = tables
    .slice(0, 40)
    .map(
      (t) =>
        `• ${codeSpan(t.table)} — ${t.object ? escapeMrkdwn(t.object) : '_not made by migrate-bot_'}, ${t.rows.toLocaleString('en-US')} rows, ${formatBytes(t.bytes)}` +
        `${t.incidentId ? ` · incident ${codeSpan(shortId(t.incidentId))}` : ''}` +
        `${t.keepUntil ? (t.expired ? ' · past keep_days' : ` · kept until ${t.keepUntil.slice(0, 10)}`) : ''}`,
    );
  return [
    `*Archive tables of ${escapeMrkdwn(service)}* in ${codeSpan(schema)} (\`archive.keep_days: ${keepDays}\`; an approver drops one with \`/migrate archive drop ‹table›\`):`,
    ...lines,
    ...(tables.length > lines.length ? [`… and ${tables.length - lines.length} more`] : []),
  ].join('\n');
}
