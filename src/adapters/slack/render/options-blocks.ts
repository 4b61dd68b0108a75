import type { ServiceConfig } from '../../../config/services.js';
import type { Incident } from '../../../domain/incident/model/incident.js';
import type { ApprovalProgress } from '../../../domain/incident/ports/notifier.js';
import { hhmm, optionRows } from '../../../domain/rollback/options.js';
import { renderTextTable } from '../../../shared/text-table.js';
import { context, type KnownBlock, section } from './block-kit.js';
import { clip, escapeMrkdwn } from './limits.js';
import { codeSpan } from './words-mrkdwn.js';

/**
 * The end of the plan card's risk section: rolling back, restoring the snapshot to a new instance
 * and fixing forward side by side (data lost, time, locks) as a small monospace table, readable
 * in ten seconds; then where the restore's figure comes from. Nothing before the facts were
 * measured, and nothing for restores and unarchives.
 */
export function optionsBlocks(
  incident: Pick<Incident, 'kind' | 'risk' | 'plan'>,
  progress: Pick<ApprovalProgress, 'rehearsal'>,
  service: Pick<ServiceConfig, 'lock_timeout'>,
): KnownBlock[] {
  const risk = incident.risk;
  const facts = risk?.options;
  if (incident.kind !== 'rollback' || !risk || !facts) return [];
  const rehearsed = progress.rehearsal?.passed ? (progress.rehearsal.downsMs ?? null) : null;
  const rows = optionRows(risk, incident.plan, facts, rehearsed, service.lock_timeout.text);
  const { lines } = renderTextTable(
    ['', 'data lost', 'time', 'locks'],
    rows.map((r) => ({ '': r.option, 'data lost': r.lost, time: r.time, locks: r.locks })),
    40,
  );
  const w = facts.writes;
  const written = w?.tables.filter((t) => t.rows > 0) ?? [];
  const restore = w
    ? `*Restore* = snapshot ${codeSpan(w.snapshotId)} (${hhmm(w.takenAt)}), the newest sampled before ${hhmm(facts.before)}: ${
        written.length
          ? written
              .map(
                (t) =>
                  `${escapeMrkdwn(t.table)} ${t.rows.toLocaleString('en-US')} rows (${t.how === 'timestamps' ? 'created_at/updated_at' : 'pg_stat_user_tables, estimated'})`,
              )
              .join(', ')
          : 'no writes in the affected tables'
      }; ~${w.database.toLocaleString('en-US')} rows written in the whole database.`
    : '*Restore:* no snapshot of this service was sampled before the impact; `/migrate snapshot` samples one.';
  const time = rehearsed !== null ? 'the rehearsal’s downs ×1.5' : 'a minute per down until a rehearsal measures it';
  const fixForward = 'the resolution proposes _Write the fix-forward migration_; `/migrate followup` records one now';
  return [
    section(clip(`*Three ways out*\n\`\`\`${escapeMrkdwn(lines.join('\n'))}\`\`\``, 2900)),
    context(
      clip(
        `${restore} *Roll back* time: ${time}; locks wait at most \`lock_timeout ${service.lock_timeout.text}\`. *Fix forward:* ${fixForward}.`,
        2900,
      ),
    ),
  ];
}
