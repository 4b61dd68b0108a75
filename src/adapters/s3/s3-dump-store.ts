import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { AppError } from '../../shared/errors.js';
import { code, words } from '../../shared/words.js';
import {
  type DumpLabels,
  type DumpManifest,
  type DumpStore,
  isDumpId,
  parseManifest,
  type RecordedIdentity,
  type StoredDump,
} from '../pgdump/dump-store.js';
import { mapS3Error } from './s3-errors.js';

/** Options of {@link S3DumpStore}. */
export interface S3DumpStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix, `''` or ending in `/` (`snapshot.prefix`, default `migrate-bot/`). */
  prefix: string;
  /** SSE-KMS key id or ARN; without it the bucket's default encryption applies. */
  kmsKeyId?: string;
  /** Service key under `services:`, for messages. */
  service: string;
  /** Multipart part size, bytes (S3's minimum is 5 MiB; default 16 MiB: 10,000 parts reach 156 GiB). */
  partSize?: number;
  /** Parts uploaded at once; memory held is about `queueSize × partSize`. Default 4. */
  queueSize?: number;
}

const MIB = 1024 * 1024;

/**
 * Computes, while bytes pass, the checksum S3 reports for an object uploaded with
 * `ChecksumAlgorithm: SHA256` in parts of `partSize` bytes (S3 "Checking object integrity":
 * one part → the SHA-256 of the object; several → the SHA-256 of the parts' SHA-256 digests,
 * shown as `<base64>-<parts>`). lib-storage cuts a stream into parts of exactly `partSize`.
 */
class PartChecksums extends Transform {
  private readonly digests: Buffer[] = [];
  private part = createHash('sha256');
  private inPart = 0;

  constructor(private readonly partSize: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, this.partSize - this.inPart);
      this.part.update(chunk.subarray(offset, offset + take));
      this.inPart += take;
      offset += take;
      if (this.inPart === this.partSize) this.closePart();
    }
    done(null, chunk);
  }

  private closePart(): void {
    this.digests.push(this.part.digest());
    this.part = createHash('sha256');
    this.inPart = 0;
  }

  /** The checksum S3 should report once the stream has ended (base64, without the `-N` suffix). */
  result(): string {
    if (this.inPart > 0 || this.digests.length === 0) this.closePart();
    if (this.digests.length === 1) return this.digests[0]!.toString('base64');
    return createHash('sha256').update(Buffer.concat(this.digests)).digest('base64');
  }
}

/** S3's checksum without the `-<parts>` suffix a multipart object's checksum carries. */
const checksumBody = (checksum: string | undefined): string | undefined => checksum?.replace(/-\d+$/, '');

/**
 * pg_dump snapshots in an S3 bucket, readable from any node (no shared volume): `<prefix><id>.dump`
 * streamed with a multipart upload (`@aws-sdk/lib-storage`, memory about `queueSize × partSize`),
 * S3 checking each part's SHA-256 on arrival, tagged with the incident, service, migration and
 * requester (`created-by: migrate-bot`), SSE-KMS with `kms_key_id`; `<prefix><id>.json` beside it
 * is the manifest. A failed stream aborts the multipart upload, so no partial object appears;
 * parts of an upload killed with the process are left for the bucket's
 * `AbortIncompleteMultipartUpload` lifecycle rule (docs/configuration.md, "Snapshot providers").
 */
export class S3DumpStore implements DumpStore {
  readonly where: string;
  private readonly partSize: number;

  constructor(private readonly options: S3DumpStoreOptions) {
    this.where = `s3://${options.bucket}/${options.prefix}`;
    this.partSize = Math.max(options.partSize ?? 16 * MIB, 5 * MIB);
  }

  private key(id: string, ext: 'dump' | 'json'): string {
    return `${this.options.prefix}${id}.${ext}`;
  }

  private fail(operation: string, key?: string): (err: unknown) => never {
    return (err) => {
      throw mapS3Error(err, {
        operation,
        bucket: this.options.bucket,
        service: this.options.service,
        ...(key ? { key } : {}),
      });
    };
  }

  private get encryption() {
    return this.options.kmsKeyId
      ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: this.options.kmsKeyId }
      : {};
  }

  async preflight(): Promise<void> {
    await this.options.client
      .send(new HeadBucketCommand({ Bucket: this.options.bucket }))
      .catch(this.fail('HeadBucket'));
  }

  async write(id: string, archive: Readable, labels: DumpLabels): Promise<StoredDump> {
    const key = this.key(id, 'dump');
    const sums = new PartChecksums(this.partSize);
    archive.on('error', (err) => sums.destroy(err));
    const upload = new Upload({
      client: this.options.client,
      params: {
        Bucket: this.options.bucket,
        Key: key,
        Body: archive.pipe(sums),
        ContentType: 'application/vnd.postgresql.pg-dump',
        ChecksumAlgorithm: 'SHA256',
        ...this.encryption,
      },
      partSize: this.partSize,
      queueSize: this.options.queueSize ?? 4,
      leavePartsOnError: false,
      tags: [
        { Key: 'created-by', Value: 'migrate-bot' },
        { Key: 'incident', Value: labels.incidentId },
        { Key: 'service', Value: labels.service },
        { Key: 'migration', Value: tagValue(labels.migration) },
        { Key: 'requested-by', Value: tagValue(labels.requestedBy) },
      ],
    });
    try {
      await upload.done();
    } catch (err) {
      // pg_dump's own failure (the stream's error) is the news, not the upload it aborted.
      const streamError = (archive as Readable & { errored?: Error | null }).errored ?? sums.errored;
      if (streamError) throw streamError;
      this.fail('Upload', key)(err);
    }
    const head = await this.head(key);
    const expected = sums.result();
    if (head.ChecksumSHA256 && checksumBody(head.ChecksumSHA256) !== expected) {
      throw new AppError({
        code: 'snapshot_verification_failed',
        message: `S3 checksum of ${this.where}${id}.dump is ${head.ChecksumSHA256}, computed ${expected}`,
        details: { expected, found: head.ChecksumSHA256 },
        userMessage: words`S3 holds different bytes for snapshot ${code(id)} than pg_dump wrote (SHA-256 ${code(head.ChecksumSHA256)}, expected ${code(expected)}). Do not use it; take a new snapshot.`,
      });
    }
    return {
      location: `s3://${this.options.bucket}/${key}`,
      ...(head.ETag ? { etag: head.ETag } : {}),
      ...(head.ChecksumSHA256 ? { storeChecksum: head.ChecksumSHA256 } : {}),
    };
  }

  private head(key: string) {
    return this.options.client
      .send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key, ChecksumMode: 'ENABLED' }))
      .catch(this.fail('HeadObject', key));
  }

  async unchanged(id: string, recorded: RecordedIdentity): Promise<boolean> {
    const head = await this.head(this.key(id, 'dump'));
    return recorded.etag !== undefined && head.ETag === recorded.etag && head.ContentLength === recorded.sizeBytes;
  }

  async open(id: string): Promise<Readable> {
    const key = this.key(id, 'dump');
    const out = await this.options.client
      .send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }))
      .catch(this.fail('GetObject', key));
    if (!(out.Body instanceof Readable)) this.fail('GetObject', key)(new Error('S3 returned no body'));
    return out.Body as Readable;
  }

  async readManifest(id: string): Promise<DumpManifest | null> {
    if (!isDumpId(id)) return null;
    const key = this.key(id, 'json');
    try {
      const out = await this.options.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return parseManifest(id, (await out.Body?.transformToString('utf8')) ?? '');
    } catch (err) {
      const mapped = mapS3Error(err, {
        operation: 'GetObject',
        bucket: this.options.bucket,
        key,
        service: this.options.service,
      });
      if (mapped.code === 'snapshot_not_found') return null;
      throw mapped;
    }
  }

  async writeManifest(manifest: DumpManifest): Promise<void> {
    const key = this.key(manifest.id, 'json');
    await this.options.client
      .send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          Body: `${JSON.stringify(manifest, null, 2)}\n`,
          ContentType: 'application/json',
          Tagging: `created-by=migrate-bot&service=${encodeURIComponent(manifest.service)}`,
          ...this.encryption,
        }),
      )
      .catch(this.fail('PutObject', key));
  }

  async list(service: string): Promise<DumpManifest[]> {
    const manifests: DumpManifest[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.client
        .send(
          new ListObjectsV2Command({
            Bucket: this.options.bucket,
            Prefix: this.options.prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        )
        .catch(this.fail('ListObjectsV2'));
      for (const obj of page.Contents ?? []) {
        const name = obj.Key?.slice(this.options.prefix.length) ?? '';
        if (!name.endsWith('.json') || name.includes('/')) continue;
        const m = await this.readManifest(name.slice(0, -'.json'.length));
        if (m && m.service === service) manifests.push(m);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return manifests.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async remove(id: string): Promise<void> {
    if (!isDumpId(id)) return;
    await this.options.client
      .send(
        new DeleteObjectsCommand({
          Bucket: this.options.bucket,
          Delete: { Objects: [{ Key: this.key(id, 'dump') }, { Key: this.key(id, 'json') }], Quiet: true },
        }),
      )
      .catch(this.fail('DeleteObjects', this.key(id, 'dump')));
  }
}

/** An S3 tag value: letters, digits, spaces and `+ - = . _ : / @`, at most 256 characters (S3 "Object tagging"). */
function tagValue(text: string): string {
  return text.replace(/[^\p{L}\p{N} +\-=._:/@]/gu, '_').slice(0, 256);
}
