import { formatBytes } from '../../../domain/triage/safe-value.js';
import { dropArchive, listArchives } from '../../../domain/incident/use-cases/archive-retention.js';
import { codeSpan, wordsMrkdwn } from '../../../adapters/slack/render/words-mrkdwn.js';
import { escapeMrkdwn } from '../../../adapters/slack/render/limits.js';
import type { SurfaceDeps } from '../../surface-deps.js';
import type { MigrateCommand } from '../parse-command.js';

/** `/migrate archive list|drop`. */
export type ArchiveCommand = Extract<MigrateCommand, { kind: 'archive' }>;

/**
 * Runs `/migrate archive list|drop` for `userId` and returns the ephemeral answer: the archive
 * tables (one line each: name, what it keeps, rows, size, incident, kept until) or what was dropped.
 * Throws what the use case throws.
 */
export async function runArchiveCommand(deps: SurfaceDeps, cmd: ArchiveCommand, userId: string): Promise<string> {
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
        `${t.incidentId ? ` · incident ${codeSpan(t.incidentId.replace(/-/g, '').slice(0, 8))}` : ''}` +
        `${t.keepUntil ? (t.expired ? ' · past keep_days' : ` · kept until ${t.keepUntil.slice(0, 10)}`) : ''}`,
    );
  return [
    `*Archive tables of ${escapeMrkdwn(service)}* in ${codeSpan(schema)} (\`archive.keep_days: ${keepDays}\`; an approver drops one with \`/migrate archive drop ‹table›\`):`,
    ...lines,
    ...(tables.length > lines.length ? [`… and ${tables.length - lines.length} more`] : []),
  ].join('\n');
}
