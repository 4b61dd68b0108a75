import type { ServiceConfig } from '../../../config/services.js';
import { escapeMrkdwn } from './limits.js';
import type { KnownBlock } from './block-kit.js';

/**
 * `/migrate help`: every command, one line each, and the services on which anyone in the
 * workspace may open incidents (`access.requesters: anyone`), said plainly.
 */
export function helpMessage(services: Iterable<Pick<ServiceConfig, 'name' | 'access'>> = []): {
  text: string;
  blocks: KnownBlock[];
} {
  const open = [...services].filter((s) => s.access.requesters === 'anyone').map((s) => `*${escapeMrkdwn(s.name)}*`);
  const lines = [
    '*`/migrate rollback ‹migration› [--service NAME]`* — open an incident and roll back `‹migration›` and every migration applied after it. `‹migration›` is a version (`007`) or a file name (`007_add_security_tables.ts`). `--break-glass "reason"` when approvers cannot be reached: one approval suffices, announced loudly; never for an irreversible step.',
    "*`/migrate triage [--service NAME]`* — run the runbooks' read-only triage queries (migration history, long transactions, blocking locks) and post the answers.",
    "*`/migrate status [--service NAME]`* — every open incident (or the service's): state, jobs, approvals, the tracking table's head, and what you can do next.",
    '*`/migrate snapshot [--service NAME]`* — take a snapshot now (pg_dump, RDS or Aurora, as configured); progress in the incident channel if one is open.',
    '*`/migrate restore ‹snapshot-id› [--service NAME]`* or *`/migrate restore --to ‹ISO-8601 time›`* — restore to a NEW instance or database (never the source) after the same approvals; posts the endpoint and the cut-over steps.',
    '*`/migrate verify [--service NAME]`* — the checks that follow every rollback, any time (runbook 001 `--postflight`): tracking table, objects gone and restored, invalid indexes, NOT VALID constraints, orphaned rows, smoke queries, health URLs.',
    '*`/migrate update ‹text› [--service NAME]`* — post your own status update in the incident channel (and to stakeholders); the next scheduled update is skipped.',
    "*`/migrate timeline [--service NAME]`* — the newest incident's timeline and postmortem draft (Markdown, from the event log) as a file in its channel; also posted at resolution and close.",
    '*`/migrate rehearse [--service NAME]`* — try the open incident\'s plan on a scratch copy restored from its snapshot (runbook 003: "reproduce on a restored test copy"); each step\'s duration and error are posted, the copy is dropped, production is not touched.',
    '*`/migrate close [--service NAME] [--reason "…"] [--force]`* — end the open incident: cancels it before the rollback starts, stops a running rollback after its current step, closes a failed one once handled by hand (requester or approver). `--force` cancels a running down migration now (approvers; for a step that hangs).',
    '*`/migrate retry [--service NAME]`* — after a failure: re-read the tracking table, re-plan what is still applied, take a new snapshot and ask for approvals again.',
    '*`/migrate refresh-approvers [--service NAME]`* — approvers of the open incident only: read the approvers (and user-group members) again, e.g. after a rota change; they are otherwise read once, when the incident opens.',
    '*`/migrate archive list [--service NAME]`* — the archive tables (what downs destroyed, copied first): rows, size, incident, kept until. *`/migrate archive drop ‹table› [--force]`* — approvers drop one; `--force` before `archive.keep_days`.',
    '*`/migrate unarchive ‹incident› [--table ‹table›] [--on-conflict skip|overwrite]`* — once a fix-forward brought the column or table back, write what that incident archived back: a plan, a snapshot, approvals, one transaction, a row-by-row check.',
    '*`/migrate help`* — this list.',
  ];
  return {
    text: 'migrate-bot commands',
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text:
              '`--service` may be left out when only one service is configured. Who may open incidents, read and break glass is set per service in services.yaml (`access:`). Nothing touches a database without a snapshot and two approvals.' +
              (open.length
                ? ` Anyone in the workspace may open incidents on ${open.join(', ')} (\`access.requesters: anyone\`).`
                : ''),
          },
        ],
      },
    ],
  };
}
