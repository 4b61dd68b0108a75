import { fingerprintCheck, type FingerprintDeps } from './schema-fingerprint.js';
import type { MigrationTool } from '../../domain/rollback/migration-tool.js';
import type { ServiceConfig } from '../../config/services.js';
import type { PlanStep } from '../../domain/rollback/plan.js';
import {
  CHECKS,
  healthCheck,
  integrityCheck,
  objectsCheck,
  smokeCheck,
  type VerificationCheck,
} from '../../domain/verify/verification.js';
import { withTriageSessions } from './triage-runner.js';

/** HTTP status of a GET to `url`, following redirects, or a throw after `timeoutMs` (an AbortSignal timeout). */
export async function httpStatus(url: string, timeoutMs: number): Promise<number> {
  const res = await fetch(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  await res.body?.cancel().catch(() => undefined);
  return res.status;
}

/**
 * The database and HTTP checks of a rollback's verification (runbook 003 "Post-rollback
 * verification", runbook 001 postflight), read-only under the service's triage limits on one
 * connection, each check in its own transaction: objects, integrity, smoke queries; then the
 * health URLs. A check that cannot run is `failed` with the reason; never throws for database trouble.
 * @param plan the steps that ran (the incident's plan), newest first
 */
export async function runVerification(
  service: ServiceConfig,
  plan: readonly PlanStep[],
  fingerprint?: { tool: MigrationTool; deps: FingerprintDeps },
): Promise<VerificationCheck[]> {
  const checks = await withTriageSessions(service, async (begin, describeError) => {
    const guarded = async (
      { name, title }: { name: string; title: string },
      run: () => Promise<VerificationCheck>,
    ): Promise<VerificationCheck> => {
      const t0 = performance.now();
      try {
        return await run();
      } catch (err) {
        return {
          name,
          title,
          status: 'failed',
          detail: `could not run: ${describeError(err)}`,
          problems: [describeError(err)],
          durationMs: Math.round(performance.now() - t0),
        };
      }
    };
    return [
      await guarded(CHECKS.objects, () => objectsCheck(begin, plan)),
      await guarded(CHECKS.integrity, () => integrityCheck(begin, plan)),
      await guarded(CHECKS.smoke_queries, () => smokeCheck(begin, service.verify.smoke_queries, describeError)),
    ];
  });
  if (fingerprint) checks.push(await fingerprintCheck(service, fingerprint.tool, fingerprint.deps));
  checks.push(await healthCheck(service.verify.health_urls, service.verify.health_timeout.ms, httpStatus));
  return checks;
}
