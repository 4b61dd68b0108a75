import net from 'node:net';
import type { RecordedCall } from './slack-api-server.js';

/** A TCP port free on 127.0.0.1 right now (for a child process's HTTP_PORT). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The most new messages (`chat.postMessage` calls that succeeded) any one channel got within any 1,000 ms. */
export function maxPerChannelPerSecond(posts: readonly RecordedCall[]): number {
  const byChannel = new Map<string, number[]>();
  for (const p of posts)
    if (p.ok) byChannel.set(String(p.args.channel), [...(byChannel.get(String(p.args.channel)) ?? []), p.at]);
  let max = 0;
  for (const times of byChannel.values()) {
    times.sort((a, b) => a - b);
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      max = Math.max(max, i - j + 1);
    }
  }
  return max;
}
