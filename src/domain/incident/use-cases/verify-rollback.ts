import type { ServiceConfig } from '../../../config/services.js';
import type { MigrationTool } from '../../rollback/migration-tool.js';
import { type PlanStep, revertedMigrations } from '../../rollback/plan.js';
import type { VerificationCheck, VerificationReport } from '../../verify/verification.js';
import type { IncidentDeps } from '../ports/deps.js';

/**
 * Runbook 001's postflight and runbook 003's "Post-rollback verification", each check named
 * and timed: the tracking table (no planned migration listed, no dirty row), the objects the
 * reverted ups created gone and those the downs recreate present, no invalid index / NOT VALID
 * constraint / orphaned rows on the touched tables, `verify.smoke_queries` and
 * `verify.health_urls`. Read-only.
 * @param plan the steps that ran, newest first (empty for a `/migrate verify` without an incident: generic checks only)
 * @throws what `tool.listApplied` throws (the database is unreachable)
 */
export async function verifyRollback(
  deps: IncidentDeps,
  service: ServiceConfig,
  tool: MigrationTool,
  plan: readonly PlanStep[],
): Promise<VerificationReport> {
  const t0 = performance.now();
  const after = await tool.listApplied();
  const planned = new Set(revertedMigrations(plan));
  const stillApplied = after.filter((m) => planned.has(m.name)).map((m) => m.name);
  const dirty = after.filter((m) => m.dirty).map((m) => m.name);
  const head = after.length ? after[after.length - 1]!.name : null;
  const tracking: VerificationCheck = {
    name: 'tracking_table',
    title: 'Tracking table',
    status: stillApplied.length || dirty.length ? 'failed' : 'passed',
    detail: `head is ${head ? `\`${head}\`` : '(empty)'}${planned.size ? `; none of the ${planned.size} reverted migration(s) listed` : ''}${dirty.length ? '' : '; no dirty row'}`,
    problems: [
      ...stillApplied.map((m) => `\`${m}\` is still listed`),
      ...dirty.map((m) => `\`${m}\` is marked dirty (runbook 001 "Dirty Migration Recovery")`),
    ],
    durationMs: Math.round(performance.now() - t0),
  };
  const checks = [tracking, ...(await deps.verify(service, plan))];
  return {
    passed: checks.every((c) => c.status !== 'failed'),
    stillApplied,
    head,
    checks,
    durationMs: Math.round(performance.now() - t0),
  };
}
