// The gs:// driver on Google's own @google-cloud/storage: application default credentials or a
// service-account key file, resumable uploads for large bodies, and every write checked against
// the CRC32C the server computed (GCS keeps one for every object, so check needs no re-read).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IdempotencyStrategy, Storage, type Bucket, type File, type FileMetadata, type PredefinedAcl } from '@google-cloud/storage';
import { FerryError } from '../errors.ts';
import { crc32cCombine, crc32cOf, crc32cToBase64 } from './checksum.ts';
import { objectKey } from './names.ts';
import { asRangeSource, sizeOf } from './parts-body.ts';
import type { GcsOptions } from './gcs-options.ts';
import { KeyNotFound } from './store.ts';
import type { ByteRange, ListOptions, ObjectInfo, RangeSource, Store, StoreCapabilities, WriteOptions, WriteResult } from './store.ts';

const MIB = 1024 * 1024;
/** Resumable chunks must be multiples of 256 KiB; each chunk is one request the SDK can retry. */
export const GCS_DEFAULTS = { chunkSize: 16 * MIB, resumableThreshold: 16 * MIB };
const CHUNK_UNIT = 256 * 1024;

/** What a user may give (GcsOptions) and what tests set. */
export interface GcsStoreOptions extends GcsOptions {
  /**
   * JSON API endpoint of a GCS-compatible server. Not the `endpoint` option: that one is the S3
   * endpoint, and a copy between gs:// and s3:// passes the same options to both stores. Users
   * reach an emulator through STORAGE_EMULATOR_HOST, which the SDK reads itself.
   */
  apiEndpoint?: string;
  /** Retries of one request before giving up (at least 1: the SDK reads 0 as its default of 3). */
  maxRetries?: number;
}

/** S3-style canned ACL names (bucket-owner-full-control) as GCS predefined ACLs (bucketOwnerFullControl). */
export function gcsPredefinedAcl(acl: string | undefined): PredefinedAcl | undefined {
  if (!acl) return undefined;
  const name = acl.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const known = ['authenticatedRead', 'bucketOwnerFullControl', 'bucketOwnerRead', 'private', 'projectPrivate', 'publicRead'];
  if (!known.includes(name)) {
    throw new FerryError(`"${acl}" is not an ACL Google Cloud Storage knows`, { hint: `use one of ${known.join(', ')}`, code: 'BadAcl' });
  }
  return name as PredefinedAcl;
}

interface ApiError {
  code?: number | string;
  message?: string;
  errors?: unknown[];
}

function describeGcsError(e: unknown, bucket: string, key: string | undefined, endpoint: string, credentials: string): unknown {
  if (e instanceof FerryError || (e as Error)?.name === 'AbortError') return e;
  const err = (e ?? {}) as ApiError;
  const where = key === undefined ? `gs://${bucket}` : `gs://${bucket}/${key}`;
  const msg = err.message ?? String(e);
  if (/default credentials|could not load the default|no such file.*json|ENOENT.*\.json/i.test(msg)) {
    return new FerryError(`no usable Google credentials (${credentials}): ${msg.split('\n')[0]}`, {
      hint: 'run "gcloud auth application-default login", set GOOGLE_APPLICATION_CREDENTIALS, or pass a service-account key file',
      code: 'NoCredentials',
      cause: e,
    });
  }
  if (err.code === 'FILE_NO_UPLOAD' || err.code === 'CONTENT_DOWNLOAD_MISMATCH') {
    return new FerryError(`${where} does not match the bytes sent or received (CRC32C differs); the SDK removed the upload`, { hint: 'run the copy again', code: 'ChecksumMismatch', exitCode: 1, cause: e });
  }
  if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || /ECONNREFUSED|ENOTFOUND|getaddrinfo/.test(msg)) {
    return new FerryError(`cannot reach Google Cloud Storage at ${endpoint} (${msg.split('\n')[0]})`, { hint: 'check the network and the endpoint', code: 'EndpointUnreachable', cause: e });
  }
  if (err.code === 401) {
    return new FerryError(`${endpoint} rejected the credentials for ${where} (${credentials})`, { hint: 'check the service-account key or run "gcloud auth application-default login" again', code: 'Unauthenticated', cause: e });
  }
  if (err.code === 403) {
    return new FerryError(`access denied to ${where} with ${credentials}`, { hint: 'grant the account a role that allows this (e.g. Storage Object Admin on the bucket)', code: 'AccessDenied', cause: e });
  }
  if (err.code === 404 && /bucket/i.test(msg)) {
    return new FerryError(`bucket ${bucket} does not exist at ${endpoint}`, { hint: 'check the bucket name, or create the bucket first', code: 'NoSuchBucket', cause: e });
  }
  return e;
}

function toInfo(key: string, m: FileMetadata): ObjectInfo {
  const mtime = Number(m.metadata?.mtime);
  return {
    key,
    size: Number(m.size ?? 0),
    mtimeMs: m.updated ? Date.parse(m.updated) : 0,
    etag: m.md5Hash ? Buffer.from(m.md5Hash, 'base64').toString('hex') : undefined,
    crc32c: m.crc32c,
    sourceMtimeMs: m.metadata?.mtime !== undefined && Number.isFinite(mtime) ? mtime * 1000 : undefined,
    contentEncoding: m.contentEncoding,
  };
}

class GcsStore implements Store {
  readonly url: string;
  readonly capabilities: StoreCapabilities = { local: false, keepsContentEncoding: true, serverChecksum: 'crc32c' };
  private readonly storage: Storage;
  private readonly bucket: Bucket;
  private readonly prefix: string;
  private readonly opts: GcsStoreOptions;
  private readonly endpoint: string;
  private readonly credentials: string;
  private bucketChecked: Promise<void> | undefined;

  constructor(storage: Storage, bucketName: string, prefix: string, opts: GcsStoreOptions) {
    this.storage = storage;
    this.bucket = storage.bucket(bucketName);
    this.prefix = prefix;
    this.opts = opts;
    this.url = `gs://${bucketName}/${prefix}`;
    this.endpoint = storage.apiEndpoint;
    this.credentials = opts.keyFile ? `key file ${opts.keyFile}` : 'application default credentials';
  }

  private file(key: string): File {
    return this.bucket.file(this.prefix + objectKey(key, this.url));
  }

  private async guard<T>(key: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw describeGcsError(e, this.bucket.name, key === undefined ? undefined : this.prefix + key, this.endpoint, this.credentials);
    }
  }

  /** A 404 on an object may mean the bucket is missing: asked once per store, only then. */
  private checkBucket(): Promise<void> {
    this.bucketChecked ??= this.guard(undefined, async () => {
      const [exists] = await this.bucket.exists();
      if (!exists) throw new FerryError(`bucket ${this.bucket.name} does not exist at ${this.endpoint}`, { hint: 'check the bucket name, or create the bucket first', code: 'NoSuchBucket' });
    });
    return this.bucketChecked;
  }

  async *list(prefix = '', opts: ListOptions = {}): AsyncIterable<ObjectInfo> {
    let pageToken: string | undefined;
    let first = true;
    do {
      opts.signal?.throwIfAborted();
      const [files, next] = await this.guard(prefix, () => this.bucket.getFiles({
        prefix: this.prefix + prefix,
        delimiter: opts.delimiter ? '/' : undefined,
        autoPaginate: false,
        maxResults: 1000,
        pageToken,
      }));
      if (first && files.length === 0) await this.checkBucket();
      first = false;
      for (const f of files) yield toInfo(f.name.slice(this.prefix.length), f.metadata);
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const [m] = await this.file(key).getMetadata();
      return toInfo(key, m);
    } catch (e) {
      if ((e as ApiError).code !== 404) throw describeGcsError(e, this.bucket.name, this.prefix + key, this.endpoint, this.credentials);
      await this.checkBucket();
      return undefined;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    await this.checkExists(key);
    if (range && range.end <= range.start) return Readable.from([]);
    // Whole reads are CRC32C-checked by the SDK; a range cannot be.
    return this.file(key).createReadStream(range ? { start: range.start, end: range.end - 1, validation: false } : { validation: 'crc32c' });
  }

  private async checkExists(key: string): Promise<void> {
    if (!(await this.stat(key))) throw new KeyNotFound(`${this.url}${key}`);
  }

  async readBytes(key: string, range?: ByteRange): Promise<Buffer> {
    const bytes = await this.readIfExists(key, range);
    if (!bytes) throw new KeyNotFound(`${this.url}${key}`);
    return bytes;
  }

  async readIfExists(key: string, range?: ByteRange): Promise<Buffer | undefined> {
    if (range && range.end <= range.start) return Buffer.alloc(0);
    try {
      const [bytes] = await this.file(key).download(range ? { start: range.start, end: range.end - 1, validation: false } : { validation: 'crc32c' });
      return bytes;
    } catch (e) {
      if ((e as ApiError).code !== 404) throw describeGcsError(e, this.bucket.name, this.prefix + key, this.endpoint, this.credentials);
      // Whatever the 404 says, a missing bucket is told apart from a missing object by asking.
      await this.checkBucket();
      return undefined;
    }
  }

  async openRange(key: string, size?: number): Promise<RangeSource> {
    const info = await this.stat(key);
    if (!info) throw new KeyNotFound(`${this.url}${key}`);
    return { size: size ?? info.size, readRange: (range) => this.readBytes(key, range) };
  }

  async write(key: string, body: Buffer | RangeSource, opts: WriteOptions = {}): Promise<WriteResult> {
    if (opts.ifAbsent) {
      const there = await this.stat(key);
      if (there) return { key, size: there.size, crc32c: '', partsSent: 0, partsReused: 0, existed: true };
    }
    const threshold = this.opts.multipartThreshold ?? GCS_DEFAULTS.resumableThreshold;
    const metadata: FileMetadata = {
      contentType: opts.contentType,
      contentEncoding: opts.contentEncoding,
      cacheControl: opts.cacheControl,
      storageClass: this.opts.storageClass,
      metadata: opts.mtimeMs === undefined ? undefined : { mtime: String(opts.mtimeMs / 1000) },
    };
    const predefinedAcl = gcsPredefinedAcl(this.opts.acl);
    const file = this.file(key);
    let crc: number;
    let partsSent = 0;
    if (sizeOf(body) < threshold) {
      const bytes = Buffer.isBuffer(body) ? body : await body.readRange({ start: 0, end: body.size }, opts.signal);
      crc = crc32cOf(bytes);
      // With crc32c in the object resource, the server itself refuses bytes that do not match.
      await this.guard(key, () => file.save(bytes, { resumable: false, validation: 'crc32c', metadata: { ...metadata, crc32c: crc32cToBase64(crc) }, predefinedAcl }));
      opts.onBytes?.(bytes.length);
    } else {
      const source = asRangeSource(body);
      const chunkSize = Math.max(CHUNK_UNIT, Math.ceil((this.opts.partSize ?? GCS_DEFAULTS.chunkSize) / CHUNK_UNIT) * CHUNK_UNIT);
      crc = 0;
      const chunks = async function* () {
        for (let start = 0; start < source.size; start += chunkSize) {
          const end = Math.min(source.size, start + chunkSize);
          const bytes = await source.readRange({ start, end }, opts.signal);
          crc = start === 0 ? crc32cOf(bytes) : crc32cCombine(crc, crc32cOf(bytes), bytes.length);
          partsSent++;
          yield bytes;
          opts.onBytes?.(bytes.length);
        }
      };
      await this.guard(key, () => pipeline(
        Readable.from(chunks()),
        file.createWriteStream({ resumable: true, chunkSize, validation: 'crc32c', metadata, predefinedAcl }),
        { signal: opts.signal },
      ));
    }
    const [stored] = await this.guard(key, () => file.getMetadata());
    const size = sizeOf(body);
    const expected = crc32cToBase64(crc);
    if (stored.crc32c !== expected || Number(stored.size) !== size) {
      await file.delete({ ignoreNotFound: true });
      throw new FerryError(`${this.url}${key} does not match what was sent (CRC32C ${stored.crc32c} vs ${expected}, size ${stored.size} vs ${size}); it was removed`, {
        hint: 'run the copy again',
        code: 'ChecksumMismatch',
        exitCode: 1,
      });
    }
    return { key, size, crc32c: expected, etag: toInfo(key, stored).etag, partsSent, partsReused: 0 };
  }

  async delete(key: string): Promise<void> {
    await this.guard(key, () => this.file(key).delete({ ignoreNotFound: true }));
  }

  async checksum(key: string): Promise<string> {
    const info = await this.stat(key);
    if (!info) throw new KeyNotFound(`${this.url}${key}`);
    if (info.crc32c) return info.crc32c;
    let crc = 0;
    for await (const chunk of await this.read(key)) crc = crc32cOf(chunk as Buffer, crc);
    return crc32cToBase64(crc);
  }

  async close(): Promise<void> {
    // The SDK keeps no sockets that outlive their requests.
  }
}

export async function openGcsStore(bucket: string, prefix: string, opts: GcsStoreOptions = {}): Promise<Store> {
  const storage = new Storage({
    apiEndpoint: opts.apiEndpoint,
    keyFilename: opts.keyFile,
    retryOptions: {
      autoRetry: true,
      maxRetries: opts.maxRetries ?? 6,
      // Ferry's writes are idempotent (the same bytes to the same key), so retry them too.
      idempotencyStrategy: IdempotencyStrategy.RetryAlways,
    },
  });
  return new GcsStore(storage, bucket, prefix, opts);
}
