import { spawn, type ChildProcess } from 'node:child_process';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './measure.js';

/** A moto S3 server of the test's own on a free loopback port (`moto_server`, Python's moto). */
export interface MotoS3 {
  /** What `AWS_ENDPOINT_URL_S3` should be, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** A client on it (static test credentials, us-east-1). */
  client: S3Client;
  /** Creates `bucket` and returns its name. */
  bucket(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Credentials and region moto accepts (it checks signatures' shape, not their keys). */
export const MOTO_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIAMOTOTEST0000000',
  AWS_SECRET_ACCESS_KEY: 'moto-test-secret',
  AWS_REGION: 'us-east-1',
} as const;

/**
 * Starts `moto_server` on a free loopback port and waits until it answers.
 * @throws naming the missing tool when moto_server cannot start (tests fail, never skip)
 */
export async function startMotoS3(): Promise<MotoS3> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject(
        new Error(`moto_server could not be started (${err.message}); install it with: pip install 'moto[server]'`),
      ),
    );
    child.once('exit', (code) => reject(new Error(`moto_server exited with ${code} before answering on ${url}`)));
  });
  failed.catch(() => undefined);
  const answered = (async () => {
    for (let i = 0; i < 300; i++) {
      const ok = await fetch(`${url}/`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`moto_server did not answer on ${url} within 15 s`);
  })();
  try {
    await Promise.race([answered, failed]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const client = new S3Client({
    endpoint: url,
    region: MOTO_ENV.AWS_REGION,
    credentials: { accessKeyId: MOTO_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: MOTO_ENV.AWS_SECRET_ACCESS_KEY },
  });
  return {
    url,
    client,
    async bucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async close() {
      client.destroy();
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
