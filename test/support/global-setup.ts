import net from 'node:net';

/** Fails the whole run, with the command that fixes it, when PostgreSQL or Redis is down. Never skips. */
async function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 2000 }, () => {
      s.end();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

export default async function setup(): Promise<void> {
  const missing: string[] = [];
  if (!(await reachable('127.0.0.1', 5432))) {
    missing.push('PostgreSQL on 127.0.0.1:5432 (start: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)');
  }
  if (!(await reachable('127.0.0.1', 6379))) {
    missing.push('Redis on 127.0.0.1:6379 (start: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no)');
  }
  if (missing.length > 0) {
    throw new Error(`The test suite needs real services that are not running:\n - ${missing.join('\n - ')}`);
  }
}
