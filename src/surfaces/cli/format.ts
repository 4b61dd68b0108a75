import type { PlanSchemaCheck } from '../../domain/rollback/plan-schema-check.js';
import { computedPlanReason } from '../../domain/rollback/plan-schema-check.js';
import { schemaCheckLines } from '../../domain/rollback/plan-schema-words.js';
import { wordsPlain } from '../../shared/words.js';
import type { StatusView } from '../../domain/incident/use-cases/incident-status.js';
import type { RollbackDescription } from '../../domain/incident/use-cases/describe-rollback.js';
import type { VerificationReport } from '../../domain/verify/verification.js';
import type { Incident } from '../../domain/incident/model/incident.js';
import { shortId } from '../../domain/incident/model/incident.js';
import { notableFindings, riskVerdict } from '../../domain/rollback/risk-verdict.js';
import type { PlanRisk } from '../../domain/rollback/risk.js';
import type { SnapshotRecord } from '../../domain/snapshots/snapshot-provider.js';
import { overallVerdict, type TriageReport } from '../../domain/triage/triage-report.js';

/**
 * Plain-text renderings of the CLI's results for people at a terminal (no colour codes, so
 * they read the same in a pipe or a ticket). Scripts use `--json` instead.
 */

const MARK = { ok: '✓', passed: '✓', attention: '!', skipped: '-', failed: '✗' } as const;

/** Triage (runbook 001 `--preflight`): one line per check with its verdict, summary and time. */
export function triageText(report: TriageReport): string {
  // The title column is as wide as its longest title, no wider.
  const width = Math.max(0, ...report.checks.map((c) => c.title.length));
  const lines = report.checks.map(
    (c) =>
      `  ${MARK[c.verdict]} ${c.title.padEnd(width)}  ${c.summary}${c.error ? ` (${c.error})` : ''}  [${c.durationMs} ms]`,
  );
  return [`Triage of ${report.service}: ${overallVerdict(report)} in ${report.durationMs} ms`, ...lines].join('\n');
}

/** The plan of a dry run: each down with its SQL and risk, the tracking table's head. */
export function planText(
  d: RollbackDescription & { service: { name: string }; risk: PlanRisk; schemaCheck?: PlanSchemaCheck | null },
): string {
  const out = [
    `Dry run: rolling back ${d.target.name} on ${d.service.name} would run ${d.plan.length} down migration(s), newest first. Nothing was written.`,
  ];
  d.plan.forEach((step, i) => {
    const flags = [
      step.transactional ? 'in a transaction' : 'NOT in a transaction',
      step.dirty ? 'dirty' : '',
      step.modified ? 'file changed since applied' : '',
    ].filter(Boolean);
    out.push('', `${i + 1}. ${step.migration} (${flags.join(', ')})`);
    if (step.irreversible)
      out.push(`   ✗ irreversible: ${step.irreversible} — restore from a snapshot instead (runbook 003, Option B)`);
    const risk = d.risk.steps.find((s) => s.migration === step.migration);
    for (const f of risk ? notableFindings(risk) : []) out.push(`   ! ${riskVerdict(f)}`);
    for (const sql of step.sql)
      out.push(
        ...sql
          .trim()
          .split('\n')
          .map((l) => `   | ${l}`),
      );
    if (!step.sql.length && !step.irreversible) out.push('   | (SQL not captured)');
  });
  if (d.schemaCheck) {
    const mark = { ok: '✓', bad: '✗', warn: '!', info: '·' } as const;
    out.push('', 'Schema check (scratch databases, dropped):');
    for (const l of schemaCheckLines(d.plan, d.schemaCheck)) out.push(`  ${mark[l.tone]} ${wordsPlain(l.words)}`);
    const step = d.schemaCheck.computed.step;
    if (step && computedPlanReason(d.plan, d.schemaCheck))
      out.push('', `Computed plan (${step.sql.length} statement(s)):`, ...step.sql.map((q) => `   | ${q}`));
  }
  return out.join('\n');
}

/** A snapshot's identity: id, provider, where, size and hash. */
export function snapshotText(s: SnapshotRecord): string {
  const size = s.sizeBytes !== undefined ? `, ${(s.sizeBytes / 1024 / 1024).toFixed(1)} MiB` : '';
  return `Snapshot ${s.id} (${s.provider}) is ${s.status}${s.location ? ` at ${s.location}` : ''}${s.arn ? ` (${s.arn})` : ''}${size}${s.sha256 ? `, sha256 ${s.sha256.slice(0, 16)}…` : ''}.`;
}

/** `status`: per service, the open incident (or none), approvals, jobs and the tracking table's head. */
export function statusText(views: readonly StatusView[]): string {
  if (!views.length) return 'No open incidents.';
  return views
    .map((v) => {
      const head = !Array.isArray(v.head)
        ? `tracking table unreadable: ${wordsPlain(v.head)}`
        : `tracking table head: ${v.head.map((m) => m.name).join(', ') || '(empty)'}`;
      if (!v.incident) return `${v.service.name}: no open incident; ${head}`;
      const i = v.incident;
      const jobs = Object.entries(v.jobs)
        .map(([k, s]) => `${k} ${s}`)
        .join(', ');
      return [
        `${v.service.name}: incident ${shortId(i.id)} (${i.kind} of ${i.migration}) is ${i.state.replace(/_/g, ' ')}${i.conversation ? ` in #${i.conversation.name}` : ''}`,
        `  approvals ${v.approvals.length} of ${v.required}${v.approvals.length ? ` (${v.approvals.map((a) => a.userId).join(', ')})` : ''}; snapshot ${i.snapshot ? `${i.snapshot.id} ${i.snapshot.status}` : 'none yet'}`,
        `  steps: ${i.steps.map((s) => `${s.migration} ${s.status}`).join(', ') || 'none run'}; jobs: ${jobs || 'none'}`,
        `  ${head}`,
      ].join('\n');
    })
    .join('\n');
}

/** Verification (runbook 001 `--postflight`): one line per check and its problems. */
export function verificationText(service: string, r: VerificationReport): string {
  const lines = r.checks.flatMap((c) => [
    `  ${MARK[c.status]} ${c.title}: ${c.detail} [${c.durationMs} ms]`,
    ...c.problems.slice(0, 20).map((p) => `      - ${p}`),
  ]);
  return [
    `Verification of ${service}: ${r.passed ? 'passed' : 'FAILED'} in ${r.durationMs} ms; tracking table head ${r.head ?? '(empty)'}`,
    ...lines,
  ].join('\n');
}

/** How an incident ended, for the last line of `rollback`. */
export function outcomeText(i: Incident): string {
  const steps = i.steps
    .map((s) => `${s.migration} ${s.status}${s.durationMs !== undefined ? ` (${s.durationMs} ms)` : ''}`)
    .join(', ');
  const where = i.conversation ? ` Channel: #${i.conversation.name}.` : '';
  switch (i.state) {
    case 'resolved':
      return `Rolled back ${i.migration} on ${i.service}: ${steps}. Verification passed.${where}`;
    case 'resolved_with_warnings':
      return `Rolled back ${i.migration} on ${i.service} (${steps}), but verification FAILED: look before closing (\`migrate-bot close ${shortId(i.id)} --reason …\`).${where}`;
    case 'failed':
      return `Rollback of ${i.migration} on ${i.service} FAILED: ${i.failure ? wordsPlain(i.failure.message) : 'see the incident'}${steps ? ` Steps: ${steps}.` : ''}${where}`;
    default:
      return `Incident ${shortId(i.id)} is ${i.state.replace(/_/g, ' ')}.${where}`;
  }
}
