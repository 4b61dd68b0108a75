import { type AnyMiddlewareArgs, App, HTTPReceiver, type Middleware, type webApi } from '@slack/bolt';
import type { SeenSlackRequests } from '../../adapters/slack/seen-requests.js';
import type { Env } from '../../config/env.js';
import type { SurfaceDeps } from '../surface-deps.js';
import type { Logger } from '../../shared/logger.js';
import { boltLogger } from './bolt-logger.js';
import { withRequestWindow } from './request-window.js';
import { createAcksFirstQueue } from './acks-first.js';
import { registerMigrateCommand } from './listeners/migrate-command.js';
import { registerPlanActions } from './listeners/plan-actions.js';
import { registerDiscardActions } from './listeners/discard-actions.js';
import { registerStopActions } from './listeners/stop-actions.js';
import { registerRestoreInsteadActions } from './listeners/restore-instead-actions.js';
import { registerRehearseActions } from './listeners/rehearse-actions.js';
import { registerComputedPlanActions } from './listeners/computed-plan-actions.js';
import { registerProcessActions } from './listeners/process-actions.js';

/**
 * No retries inside the Web API client: the outbox retries each notice with backoff, and
 * looks in the channel before posting again, so a call whose answer was lost is not
 * repeated blindly (the client's own retry would post the message twice). A 429 is not
 * slept on inside the client (which would pause every call): it is thrown with its
 * `Retry-After`, and the notice-delivery job waits that long.
 */
export const SLACK_CLIENT_OPTIONS = { retryConfig: { retries: 0 }, rejectRateLimitedCalls: true };

/**
 * Builds the Bolt app: Socket Mode when `SLACK_APP_TOKEN` is set, else the HTTP
 * receiver with requests at `POST /slack/events` (signature verified by Bolt; a bad
 * signature, or a timestamp more than 5 minutes in the past or the future, gets 401 and
 * reaches no listener). Work after a command's ack runs at most `POST_ACK_CONCURRENCY` at a time,
 * and acks come first: it is held while requests are still arriving (see {@link createAcksFirstQueue}).
 * Listeners call Slack through `client` (the bot's paced and counted Web API client), not
 * through the one Bolt hands them, so modals and ephemeral answers keep Slack's pace and show in
 * `/metrics` like every other call.
 */
export function createSlackApp(
  env: Env,
  deps: SurfaceDeps,
  logger: Logger,
  client: webApi.WebClient,
  seen?: SeenSlackRequests,
): App {
  const log = boltLogger(logger);
  const clientOptions = { ...SLACK_CLIENT_OPTIONS, ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}) };
  let app: App;
  if (env.SLACK_APP_TOKEN) {
    app = new App({
      token: env.SLACK_BOT_TOKEN,
      appToken: env.SLACK_APP_TOKEN,
      socketMode: true,
      logger: log,
      clientOptions,
    });
  } else {
    const receiver = new HTTPReceiver({
      signingSecret: env.SLACK_SIGNING_SECRET,
      endpoints: '/slack/events',
      logger: log,
      // The signature reaches the middleware below, which answers a replay 200 and ignores it.
      customPropertiesExtractor: (req) => ({ slackSignature: req.headers['x-slack-signature'] }),
    });
    receiver.requestListener = withRequestWindow(receiver.requestListener);
    app = new App({ token: env.SLACK_BOT_TOKEN, receiver, logger: log, clientOptions });
  }
  const afterAck = createAcksFirstQueue({
    concurrency: env.POST_ACK_CONCURRENCY,
    onChange: ({ waiting, running }) => {
      deps.metrics.postAckWork.set({ state: 'waiting' }, waiting);
      deps.metrics.postAckWork.set({ state: 'running' }, running);
    },
  });
  if (seen) app.use(replayGuard(seen, logger, deps));
  app.use(async ({ next }) => {
    afterAck.arrived();
    await next();
  });
  registerMigrateCommand(app, deps, (work, key) => afterAck.run(work, key));
  registerPlanActions(app, deps, client);
  registerDiscardActions(app, deps);
  registerStopActions(app, deps);
  registerRestoreInsteadActions(app, deps);
  registerRehearseActions(app, deps);
  registerComputedPlanActions(app, deps);
  registerProcessActions(app, deps);
  app.error(async (err) => {
    logger.error({ err }, 'unhandled Bolt error');
  });
  return app;
}

/**
 * Bolt middleware: a signed request whose signature was already handled (a replay inside Slack's
 * 5-minute window: a command, a button press, a modal submission) is answered 200 and goes no
 * further; it is logged as `replay_ignored` and counted as a `replayed` command.
 */
function replayGuard(seen: SeenSlackRequests, logger: Logger, deps: SurfaceDeps): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const signature = args.context.slackSignature;
    if (typeof signature === 'string') {
      const sight = await seen.firstSight(signature);
      if (sight === 'unchecked') logger.warn('replay check skipped: Redis did not answer');
      if (sight === 'replay') {
        logger.warn(
          { event: 'replay_ignored', type: args.body.type ?? 'slash_command' },
          'replayed Slack request ignored',
        );
        deps.metrics.commands.inc({ command: 'replay', outcome: 'refused', surface: 'slack' });
        const { ack } = args as { ack?: () => Promise<void> };
        if (ack) await ack();
        return;
      }
    }
    await args.next();
  };
}
