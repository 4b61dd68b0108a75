import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a stand-in received: path, headers and the JSON body. */
export interface ProviderCall {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/** A scripted answer: HTTP status, body and headers (e.g. `retry-after`). */
export interface ScriptedAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * Loopback stand-ins for PagerDuty's Events API v2 (`POST /v2/enqueue`: 202 `{status, message,
 * dedup_key}`, 400 `{status: 'invalid event', message, errors}`) and Jira Cloud's REST API v3
 * (`POST /rest/api/3/issue`: 201 `{id, key, self}`, 400 `{errorMessages, errors}`), written from
 * their public docs. Every request is recorded; `script` queues answers (errors, 429 with
 * Retry-After, 5xx) given before the normal ones.
 */
export interface ProviderStandIns {
  url: string;
  pages: ProviderCall[];
  issues: ProviderCall[];
  script(kind: 'pages' | 'issues', ...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

export async function startProviderStandIns(routingKey: string, jiraAuth: string): Promise<ProviderStandIns> {
  const pages: ProviderCall[] = [];
  const issues: ProviderCall[] = [];
  const scripted = { pages: [] as ScriptedAnswer[], issues: [] as ScriptedAnswer[] };
  let issueSeq = 0;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const send = (a: ScriptedAnswer) => {
        res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
        res.end(JSON.stringify(a.body));
      };
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return send({
          status: 400,
          body: { status: 'invalid event', message: 'Event object is invalid', errors: ['bad JSON'] },
        });
      }
      const call = { path: req.url ?? '', headers: req.headers, body };
      if (req.method === 'POST' && req.url === '/v2/enqueue') {
        pages.push(call);
        const next = scripted.pages.shift();
        if (next) return send(next);
        if (body.routing_key !== routingKey)
          return send({
            status: 400,
            body: { status: 'invalid event', message: 'Event object is invalid', errors: ['Invalid routing key'] },
          });
        return send({
          status: 202,
          body: { status: 'success', message: 'Event processed', dedup_key: body.dedup_key },
        });
      }
      if (req.method === 'POST' && req.url === '/rest/api/3/issue') {
        issues.push(call);
        const next = scripted.issues.shift();
        if (next) return send(next);
        if (req.headers.authorization !== jiraAuth)
          return send({ status: 401, body: { errorMessages: ['Unauthorized'] } });
        const fields = body.fields as { project?: { key?: string } } | undefined;
        if (fields?.project?.key !== 'OPS')
          return send({ status: 400, body: { errorMessages: [], errors: { project: 'valid project is required' } } });
        issueSeq++;
        return send({
          status: 201,
          body: { id: String(10000 + issueSeq), key: `OPS-${issueSeq}`, self: `/rest/api/3/issue/${10000 + issueSeq}` },
        });
      }
      send({ status: 404, body: { message: 'not found' } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    pages,
    issues,
    script: (kind, ...answers) => scripted[kind].push(...answers),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
