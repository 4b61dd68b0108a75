import type { Command } from 'commander';
import { dryRunRollback } from '../../domain/incident/use-cases/describe-rollback.js';
import { verifyService } from '../../domain/incident/use-cases/verify-service.js';
import { offendingOf } from '../../domain/incident/model/incident.js';
import { overallVerdict } from '../../domain/triage/triage-report.js';
import { EXIT } from './exit-codes.js';
import { planText, triageText, verificationText } from './format.js';
import { type CliContext, type Common, readableService, run } from './cli-run.js';

/** `triage`, `plan` and `verify`: read-only. */
export function addReadCommands(program: Command, ctx: CliContext): void {
  program
    .command('triage <service>')
    .description(
      'runbook 001 --preflight: the triage checks, read-only with timeouts; exit 1 when one needs attention or could not run',
    )
    .option('--json', 'print JSON')
    .action((serviceName: string, opts: Common) =>
      run(
        ctx,
        opts,
        false,
        async (engine) => {
          const { deps } = engine;
          const service = await readableService(engine, serviceName, 'triage');
          const open = await deps.repo.findOpenByService(service.name);
          const report = await deps.triage(service, open ? { offending: offendingOf(open) } : {});
          return {
            code: overallVerdict(report) === 'ok' ? EXIT.ok : EXIT.preflight,
            json: report,
            text: triageText(report),
          };
        },
        'triage',
      ),
    );

  program
    .command('plan <service> <migration>')
    .description(
      'runbook 001 --dry-run: the rollback plan, captured SQL, risk and the schema check (scratch databases only); writes nothing to the service',
    )
    .option('--json', 'print JSON')
    .action((serviceName: string, migration: string, opts: Common) =>
      run(
        ctx,
        opts,
        false,
        async (engine) => {
          await readableService(engine, serviceName, 'plan');
          const d = await dryRunRollback(engine.deps, serviceName, migration);
          const schemaCheck = await engine.deps.checkPlanSchema(d.service, d.plan);
          return {
            code: EXIT.ok,
            json: { service: d.service.name, target: d.target, plan: d.plan, head: d.head, risk: d.risk, schemaCheck },
            text: planText({ ...d, schemaCheck }),
          };
        },
        'plan',
      ),
    );

  program
    .command('verify <service>')
    .description('runbook 001 --postflight: the checks that follow every rollback; exit 3 when one fails')
    .option('--json', 'print JSON')
    .action((serviceName: string, opts: Common) =>
      run(
        ctx,
        opts,
        false,
        async (engine) => {
          await readableService(engine, serviceName, 'verify');
          const { report } = await verifyService(engine.deps, serviceName);
          return {
            code: report.passed ? EXIT.ok : EXIT.postflight,
            json: report,
            text: verificationText(serviceName, report),
          };
        },
        'verify',
      ),
    );
}
