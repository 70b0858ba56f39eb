// The s3:// driver: any S3-compatible endpoint through the AWS SDK v3. Every write is verified
// before it returns (Content-MD5 checked by the server, the ETag checked by us, CRC32C sent for
// servers that keep it); large writes go in parallel, resumable parts (s3-multipart.ts).
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import type {
  HeadObjectCommandOutput,
  ObjectCannedACL,
  StorageClass,
} from '@aws-sdk/client-s3';
import { FerryError } from '../errors.ts';
import { crc32cOf, crc32cToBase64 } from './checksum.ts';
import { objectKey } from './names.ts';
import { asRangeSource, sizeOf } from './parts-body.ts';
import { connectS3 } from './s3-client.ts';
import { statusOf } from './s3-errors.ts';
import { unquote } from './s3-http.ts';
import type { S3Options } from './s3-options.ts';
import { DEFAULT_RETRY, S3Requests, type RetryPolicy } from './s3-requests.ts';
import { S3Uploads } from './s3-uploads.ts';
import { KeyNotFound } from './store.ts';
import type { ByteRange, ListOptions, ObjectInfo, RangeSource, Store, StoreCapabilities, WriteOptions, WriteResult } from './store.ts';
import { MemoryUploadJournal } from './upload-journal.ts';
import type { UploadJournal } from './upload-journal.ts';

const MIB = 1024 * 1024;
/** Defaults measured against Ceph on 2 cores (bench/s3-driver.ts). */
export const S3_DEFAULTS = { partSize: 16 * MIB, partConcurrency: 4, multipartThreshold: 32 * MIB };

/** What a user may give (S3Options) and what Ferry itself sets. */
export interface S3StoreOptions extends S3Options {
  /**
   * Where multipart uploads are journaled, so that a re-run resumes an interrupted one and whoever
   * completes a key aborts the others (the ledger's, see src/ledger/transfer-state/). Without one,
   * uploads are journaled in memory and an interrupted one is aborted: nothing could resume it.
   */
  journal?: UploadJournal;
  /** How long to ride out connection failures; tests shorten it. */
  retry?: Partial<RetryPolicy>;
  /** HTTP sockets per host. */
  maxSockets?: number;
}

function rangeHeader(r: ByteRange): string {
  return `bytes=${r.start}-${r.end - 1}`;
}

function isMd5Etag(etag: string): boolean {
  return /^[0-9a-f]{32}$/i.test(etag);
}

/** The CRC32C known of an object: the server's full-object checksum, else the one we stored as metadata. */
function storedCrc32c(head: HeadObjectCommandOutput): string | undefined {
  return serverCrc32c(head) ?? head.Metadata?.crc32c;
}

/** The server's own full-object CRC32C of the bytes it holds, when it reports one. */
function serverCrc32c(head: HeadObjectCommandOutput): string | undefined {
  if (head.ChecksumCRC32C && (head.ChecksumType === 'FULL_OBJECT' || !head.ChecksumCRC32C.includes('-'))) return head.ChecksumCRC32C;
  return undefined;
}

class S3Store implements Store {
  readonly url: string;
  readonly capabilities: StoreCapabilities = { local: false, keepsContentEncoding: true, serverChecksum: 'md5-etag' };
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly requests: S3Requests;
  private readonly opts: S3StoreOptions;
  private readonly journal: UploadJournal;
  readonly multipartUploads: S3Uploads;
  private bucketChecked: Promise<void> | undefined;

  constructor(bucket: string, prefix: string, requests: S3Requests, opts: S3StoreOptions) {
    this.bucket = bucket;
    this.prefix = prefix;
    this.requests = requests;
    this.opts = opts;
    this.url = `s3://${bucket}/${prefix}`;
    this.journal = opts.journal ?? new MemoryUploadJournal();
    this.multipartUploads = new S3Uploads(requests, prefix, this.journal);
  }

  private sdk() {
    return this.requests.conn.sdk();
  }

  private fullKey(key: string): string {
    return this.prefix + objectKey(key, this.url);
  }

  /** A 404 on an object may mean the bucket is missing: asked once per store, only then. */
  private checkBucket(): Promise<void> {
    this.bucketChecked ??= this.requests.call('open bucket', undefined, async () => {
      try {
        const { client, api } = await this.sdk();
        await client.send(new api.HeadBucketCommand({ Bucket: this.bucket }));
      } catch (e) {
        if (statusOf(e) === 404) {
          throw new FerryError(`bucket ${this.bucket} does not exist at ${this.requests.conn.endpointLabel}`, {
            hint: 'check the bucket name and the endpoint, or create the bucket first',
            code: 'NoSuchBucket',
          });
        }
        throw e;
      }
    });
    return this.bucketChecked;
  }

  async *list(prefix = '', opts: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const cuts = opts.delimiter ? [] : (opts.splitKeys ?? []).filter((k) => k.startsWith(prefix));
    const bounds = [undefined, ...cuts, undefined];
    const ranges = bounds.slice(1).map((upper, i) => this.listPages(prefix, bounds[i], upper, opts));
    for await (const page of ranges.length === 1 ? ranges[0] : mergeListings(ranges)) yield* page;
  }

  /** Pages of the keys under `prefix` after `lower` up to and including `upper` (either open when undefined). */
  private async *listPages(prefix: string, lower: string | undefined, upper: string | undefined, opts: ListOptions): AsyncIterable<ObjectInfo[]> {
    // S3 orders keys by their UTF-8 bytes, which JavaScript's string order does not always match.
    const upperBytes = upper === undefined ? undefined : Buffer.from(upper);
    let token: string | undefined;
    do {
      const page = await this.requests.call('list', this.fullKey(prefix), () => this.requests.conn.http.listPage(this.bucket, {
        prefix: this.fullKey(prefix),
        delimiter: opts.delimiter ? '/' : undefined,
        startAfter: lower === undefined ? undefined : this.fullKey(lower),
        token,
      }, opts.signal), opts.signal);
      const out: ObjectInfo[] = [];
      // Keys come in order: only a page whose last key is past the range is looked at key by key.
      const last = page.objects.at(-1)?.key.slice(this.prefix.length);
      const pastUpper = (key: string) => upperBytes !== undefined && Buffer.compare(Buffer.from(key), upperBytes) > 0;
      const ends = last !== undefined && pastUpper(last);
      for (const o of page.objects) {
        const key = o.key.slice(this.prefix.length);
        if (ends && pastUpper(key)) {
          yield out;
          return;
        }
        out.push({ key, size: o.size, mtimeMs: o.lastModifiedMs, etag: o.etag || undefined });
      }
      yield out;
      token = page.nextToken;
    } while (token);
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const head = await this.head(key);
    if (!head) return undefined;
    const mtime = Number(head.Metadata?.mtime);
    return {
      key,
      size: head.ContentLength ?? 0,
      mtimeMs: head.LastModified?.getTime() ?? 0,
      etag: unquote(head.ETag) || undefined,
      crc32c: storedCrc32c(head),
      sourceMtimeMs: Number.isFinite(mtime) && head.Metadata?.mtime ? mtime * 1000 : undefined,
      contentEncoding: head.ContentEncoding,
    };
  }

  private async head(key: string): Promise<HeadObjectCommandOutput | undefined> {
    let head: HeadObjectCommandOutput;
    try {
      const { client, api } = await this.sdk();
      head = await this.requests.call('stat', this.fullKey(key), () => client.send(new api.HeadObjectCommand({
        Bucket: this.bucket,
        Key: this.fullKey(key),
        ChecksumMode: 'ENABLED',
      })));
    } catch (e) {
      if (!(e instanceof KeyNotFound)) throw e;
      await this.checkBucket();
      return undefined;
    }
    return head;
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const { client, api } = await this.sdk();
    const got = await this.requests.call('read', this.fullKey(key), () => client.send(new api.GetObjectCommand({
      Bucket: this.bucket,
      Key: this.fullKey(key),
      Range: range ? rangeHeader(range) : undefined,
    })));
    return got.Body as Readable;
  }

  async readBytes(key: string, range?: ByteRange): Promise<Buffer> {
    return this.getBytes(key, range);
  }

  async readIfExists(key: string, range?: ByteRange): Promise<Buffer | undefined> {
    try {
      return await this.getBytes(key, range);
    } catch (e) {
      if (e instanceof KeyNotFound) return undefined;
      throw e;
    }
  }

  private getBytes(key: string, range?: ByteRange, ifMatch?: string, signal?: AbortSignal): Promise<Buffer> {
    if (range && range.end <= range.start) return Promise.resolve(Buffer.alloc(0));
    // The body is read inside the retried call, so a connection lost mid-body is retried too.
    return this.requests.call('read', this.fullKey(key), async () => {
      const { client, api } = await this.sdk();
      const got = await client.send(new api.GetObjectCommand({
        Bucket: this.bucket,
        Key: this.fullKey(key),
        Range: range ? rangeHeader(range) : undefined,
        IfMatch: ifMatch,
      }), { abortSignal: signal });
      return Buffer.from(await got.Body!.transformToByteArray());
    }, signal);
  }

  async openRange(key: string, size?: number): Promise<RangeSource> {
    const info = await this.stat(key);
    if (!info) throw new KeyNotFound(`${this.url}${key}`);
    const etag = info.etag ? `"${info.etag}"` : undefined;
    return {
      size: size ?? info.size,
      // If-Match: a concurrent overwrite fails the read instead of mixing two versions' bytes.
      readRange: (range, signal) => this.getBytes(key, range, etag, signal),
    };
  }

  async write(key: string, body: Buffer | RangeSource, opts: WriteOptions = {}): Promise<WriteResult> {
    if (opts.ifAbsent) {
      const there = await this.stat(key);
      if (there) return { key, size: there.size, crc32c: '', partsSent: 0, partsReused: 0, existed: true };
    }
    const threshold = this.opts.multipartThreshold ?? S3_DEFAULTS.multipartThreshold;
    const metadata: Record<string, string> = {};
    if (opts.mtimeMs !== undefined) metadata.mtime = String(opts.mtimeMs / 1000);
    const headers = {
      ACL: this.opts.acl as ObjectCannedACL | undefined,
      StorageClass: this.opts.storageClass as StorageClass | undefined,
      ContentType: opts.contentType,
      ContentEncoding: opts.contentEncoding,
      CacheControl: opts.cacheControl,
    };
    if (sizeOf(body) < threshold) {
      const bytes = Buffer.isBuffer(body) ? body : await body.readRange({ start: 0, end: body.size }, opts.signal);
      return this.putSingle(key, bytes, {
        'x-amz-acl': headers.ACL,
        'x-amz-storage-class': headers.StorageClass,
        'content-type': headers.ContentType,
        'content-encoding': headers.ContentEncoding,
        'cache-control': headers.CacheControl,
      }, metadata, opts);
    }
    // Loaded only for large files: it brings in the SDK.
    const { uploadMultipart } = await import('./s3-multipart.ts');
    const result = await uploadMultipart({
      requests: this.requests,
      key: this.fullKey(key),
      body: asRangeSource(body),
      partSize: this.opts.partSize ?? S3_DEFAULTS.partSize,
      concurrency: this.opts.partConcurrency ?? S3_DEFAULTS.partConcurrency,
      journal: this.journal,
      uploads: this.multipartUploads,
      resumable: this.opts.journal !== undefined,
      owner: `${hostname()}/${process.pid}`,
      create: { ...headers, Metadata: metadata },
      mtimeMs: opts.mtimeMs,
      onBytes: opts.onBytes,
      signal: opts.signal,
    });
    return {
      key,
      size: sizeOf(body),
      crc32c: crc32cToBase64(result.crc32c),
      etag: result.etag,
      partsSent: result.partsSent,
      partsReused: result.partsReused,
    };
  }

  private async putSingle(
    key: string,
    bytes: Buffer,
    headers: Record<string, string | undefined>,
    metadata: Record<string, string>,
    opts: WriteOptions,
  ): Promise<WriteResult> {
    const md5 = createHash('md5').update(bytes).digest();
    const crc = crc32cToBase64(crc32cOf(bytes));
    const h: Record<string, string> = { 'content-md5': md5.toString('base64'), 'x-amz-checksum-crc32c': crc };
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) h[name] = value;
    // Kept as metadata too, because most S3-compatible servers drop x-amz-checksum-*.
    for (const [name, value] of Object.entries({ ...metadata, crc32c: crc })) h[`x-amz-meta-${name}`] = value;
    const etag = unquote(await this.requests.call('write', this.fullKey(key), () => this.requests.conn.http.put(this.bucket, this.fullKey(key), bytes, h, opts.signal), opts.signal));
    const md5Hex = md5.toString('hex');
    if (isMd5Etag(etag) && etag.toLowerCase() !== md5Hex) {
      await this.delete(key);
      throw new FerryError(`${this.url}${key} was stored with ETag ${etag} but the bytes sent have MD5 ${md5Hex}; it was removed`, {
        hint: 'run the copy again',
        code: 'ChecksumMismatch',
        exitCode: 1,
      });
    }
    opts.onBytes?.(bytes.length);
    return { key, size: bytes.length, crc32c: crc, etag: etag || undefined, partsSent: 0, partsReused: 0 };
  }

  async delete(key: string): Promise<void> {
    const { client, api } = await this.sdk();
    await this.requests.call('delete', this.fullKey(key), () => client.send(new api.DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) })));
  }

  /**
   * The server's own full-object CRC32C when it reports one; else the object is read. The CRC32C
   * Ferry keeps in the object's metadata is a note a client wrote, not a digest of the bytes
   * stored: what --checksum compares must be the content, or the server's word on it.
   */
  async checksum(key: string): Promise<string> {
    const head = await this.head(key);
    if (!head) throw new KeyNotFound(`${this.url}${key}`);
    const byServer = serverCrc32c(head);
    if (byServer) return byServer;
    let crc = 0;
    const body = await this.read(key);
    for await (const chunk of body) crc = crc32cOf(chunk as Buffer, crc);
    return crc32cToBase64(crc);
  }

  async close(): Promise<void> {
    this.requests.conn.destroy();
  }
}

/** Yields from every listing as its pages arrive, so their requests overlap. */
async function* mergeListings<T>(listings: AsyncIterable<T>[]): AsyncIterable<T> {
  const iterators = listings.map((l) => l[Symbol.asyncIterator]());
  const next = (i: number) => iterators[i].next().then((r) => ({ i, r }));
  const pending = new Map(iterators.map((_, i) => [i, next(i)]));
  try {
    while (pending.size > 0) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(i);
        continue;
      }
      pending.set(i, next(i));
      yield r.value;
    }
  } finally {
    // Stopped early (an error, or the caller broke off): end the other listings too.
    await Promise.allSettled([...pending.keys()].map((i) => iterators[i].return?.()));
  }
}

export async function openS3Store(bucket: string, prefix: string, opts: S3StoreOptions = {}): Promise<Store> {
  const conn = await connectS3(opts, { maxSockets: opts.maxSockets });
  const requests = new S3Requests(conn, bucket, { ...DEFAULT_RETRY, ...opts.retry });
  return new S3Store(bucket, prefix, requests, opts);
}
