/**
 * The floor of `npm run bench`'s ack rows: a Bolt app that only acks `/migrate`, in a process of
 * its own like the bot's app. PORT, SLACK_API_URL and SLACK_SIGNING_SECRET from the environment;
 * prints `listening <port>` once its port is open; exits on SIGTERM.
 */
import { App, HTTPReceiver } from '@slack/bolt';
import type net from 'node:net';

const receiver = new HTTPReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET!, endpoints: '/slack/events' });
const app = new App({ token: 'xoxb-test-token', receiver, clientOptions: { slackApiUrl: process.env.SLACK_API_URL } });
app.command('/migrate', async ({ ack }) => {
  await ack();
});
const server = (await app.start(Number(process.env.PORT ?? 0))) as unknown as net.Server;
console.log(`listening ${(server.address() as net.AddressInfo).port}`);
process.once('SIGTERM', () => void app.stop().then(() => process.exit(0)));
