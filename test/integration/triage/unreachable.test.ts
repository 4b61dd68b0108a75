import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { runTriage } from '../../../src/adapters/postgres/triage-runner.js';
import { triageChecks } from '../../../src/domain/triage/checks/index.js';
import { ADMIN_URL, withDatabase } from '../../support/postgres.js';
import { triageService } from './triage-fixtures.js';

/** A local port with nothing listening (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('an unreachable database', () => {
  it('fails every check quickly with the same clear reason and no secret', async () => {
    const port = await closedPort();
    const t0 = Date.now();
    const report = await runTriage(triageService(`postgres://triage:s3cret@127.0.0.1:${port}/tickets`));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(report.checks.map((c) => c.name)).toEqual(triageChecks.map((c) => c.name));
    expect(new Set(report.checks.map((c) => c.verdict))).toEqual(new Set(['failed']));
    expect(new Set(report.checks.map((c) => c.error))).toEqual(
      new Set([`database unreachable: connection refused at 127.0.0.1:${port}`]),
    );
    expect(JSON.stringify(report)).not.toContain('s3cret');
  });

  it('gives up on a server that accepts but never answers after the connect timeout, once per connection slot', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const t0 = Date.now();
      const report = await runTriage(triageService(`postgres://triage:s3cret@127.0.0.1:${port}/tickets`), {
        connectTimeoutMs: 500,
      });
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(new Set(report.checks.map((c) => c.error))).toEqual(
        new Set(['database unreachable: no connection within 500ms (connect timeout)']),
      );
      expect(sockets.size).toBeLessThanOrEqual(4);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('names a database that does not exist', async () => {
    const report = await runTriage(triageService(withDatabase(ADMIN_URL, 'mb_triage_no_such_db')));
    expect(new Set(report.checks.map((c) => c.error))).toEqual(
      new Set(['database unreachable: database "mb_triage_no_such_db" does not exist']),
    );
  });
});
