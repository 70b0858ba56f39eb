// A large object in parallel parts that survives being killed: the intent to upload, the upload id
// and each confirmed part go to a journal shared by every worker of a ledger, and a re-run of the
// same key with the same source (by any of them) sends only the parts the server does not already
// hold (checked with ListParts). Every part carries Content-MD5 (the server rejects corrupted
// bytes) and CRC32C; the finished object's ETag must equal the MD5 of the part MD5s, else the
// object is removed and the write fails. Whoever completes the object aborts the other uploads of
// it that Ferry started (s3-uploads.ts), so none is left behind by a worker killed on the way.
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  type CreateMultipartUploadCommandInput,
} from '@aws-sdk/client-s3';
import { FerryError } from '../errors.ts';
import { crc32cOf, crc32cOfParts, crc32cToBase64 } from './checksum.ts';
import { ByteBudget } from './byte-budget.ts';
import { publishPartTiming, timingParts } from './part-timings.ts';
import type { PartTiming } from './part-timings.ts';
import { isNoSuchUpload } from './s3-errors.ts';
import { unquote } from './s3-http.ts';
import type { S3Requests } from './s3-requests.ts';
import { CREATE_DEADLINE_MS } from './s3-uploads.ts';
import type { S3Uploads } from './s3-uploads.ts';
import type { RangeSource } from './store.ts';
import type { JournaledPart, JournaledUpload, UploadIntent, UploadJournal } from './upload-journal.ts';

export const MAX_PARTS = 10_000;
const MIN_PART_SIZE = 5 * 1024 * 1024;
const MIB = 1024 * 1024;
/**
 * Part buffers held at once by every upload of the process together: 32 parts of the default 16
 * MiB, or what one upload's own part size and concurrency ask for, if more. Many large files at
 * once share it.
 */
export const PART_BUFFERS = new ByteBudget(512 * MIB);

/** The requested part size, raised to S3's minimum and grown (in whole MiB) so no object needs over 10,000 parts. */
export function choosePartSize(size: number, requested: number): number {
  let partSize = Math.max(requested, MIN_PART_SIZE);
  if (Math.ceil(size / partSize) > MAX_PARTS) partSize = Math.ceil(size / MAX_PARTS / MIB) * MIB;
  return partSize;
}

/** The ETag S3 gives a multipart object: MD5 of the concatenated binary part MD5s, dash, part count. */
function multipartEtag(partMd5Hex: string[]): string {
  const h = createHash('md5');
  for (const m of partMd5Hex) h.update(Buffer.from(m, 'hex'));
  return `${h.digest('hex')}-${partMd5Hex.length}`;
}

export interface MultipartUpload {
  requests: S3Requests;
  key: string;
  body: RangeSource;
  partSize: number;
  concurrency: number;
  journal: UploadJournal;
  /** Settles the other uploads of the key once this one is complete. */
  uploads: S3Uploads;
  /**
   * Leave an interrupted upload journaled for a re-run to resume (the journal outlives the
   * process); else abort it, since nothing could find it again.
   */
  resumable: boolean;
  /** Host and process, written into the journal for messages. */
  owner: string;
  /** Headers and metadata of the object, given when the upload is created. */
  create: Omit<CreateMultipartUploadCommandInput, 'Bucket' | 'Key'>;
  mtimeMs?: number;
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
}

export interface MultipartResult {
  etag: string;
  crc32c: number;
  partsSent: number;
  partsReused: number;
}

interface Resumable {
  row: JournaledUpload;
  /** Part number -> ETag the server holds for it. */
  onServer: Map<number, { etag: string; size: number }>;
}

export async function uploadMultipart(u: MultipartUpload): Promise<MultipartResult> {
  const { requests, key, body } = u;
  const bucket = requests.bucket;
  const { client } = await requests.conn.sdk();
  const send = <T>(op: string, fn: (abortSignal?: AbortSignal) => Promise<T>, signal = u.signal) =>
    requests.call(op, key, () => fn(signal), signal);
  const journaled = <T>(write: () => Promise<T>) => write().catch((e: unknown) => {
    throw journalError(u.journal, e);
  });

  const target = u.uploads.target(key);
  const resumable = await findResumable(u, await journaled(() => u.journal.uploadsOf(target)));
  const partSize = resumable?.row.partSize ?? choosePartSize(body.size, u.partSize);
  const partCount = Math.max(1, Math.ceil(body.size / partSize));
  let rowId: number;
  let uploadId: string;
  if (resumable) {
    rowId = resumable.row.id;
    uploadId = resumable.row.uploadId!;
  } else {
    const intent: UploadIntent = {
      ...target, sourceSize: body.size, sourceMtimeMs: u.mtimeMs ?? null, partSize, owner: u.owner, startedAt: Date.now(),
    };
    // Written before the create is sent: killed after the server began the upload but before its
    // id is written down, this row and the time are how the upload is found again.
    rowId = await journaled(() => u.journal.begin(intent));
    let requestsSent = 0;
    const created = await send('start multipart upload of', (abortSignal) => {
      requestsSent++;
      return client.send(new CreateMultipartUploadCommand({
        ...u.create,
        Bucket: bucket,
        Key: key,
        ChecksumAlgorithm: 'CRC32C',
        ChecksumType: 'FULL_OBJECT',
      }), { abortSignal });
    }, AbortSignal.any([...(u.signal ? [u.signal] : []), AbortSignal.timeout(CREATE_DEADLINE_MS)]));
    uploadId = created.UploadId!;
    const retried = requestsSent > 1 || (created.$metadata.attempts ?? 1) > 1;
    try {
      rowId = await u.journal.created(rowId, intent, uploadId, Date.now(), retried);
    } catch (e) {
      // An upload nobody can find again would cost storage forever: abort it instead.
      await u.uploads.abortUpload(key, uploadId);
      throw journalError(u.journal, e);
    }
  }

  const done = new Map<number, JournaledPart>();
  const reusable = new Map<number, JournaledPart>();
  for (const p of resumable?.row.parts ?? []) {
    const held = resumable?.onServer.get(p.partNumber);
    if (held && held.etag === p.etag && held.size === p.size) reusable.set(p.partNumber, p);
  }

  let partsSent = 0;
  let partsReused = 0;
  const stop = new AbortController();
  const signal = u.signal ? AbortSignal.any([u.signal, stop.signal]) : stop.signal;
  let next = 1;
  // Asked-for part sizes and concurrency are honoured for one file even past the default budget.
  PART_BUFFERS.atLeast(partSize * Math.min(u.concurrency, partCount));
  const now = timingParts() ? () => performance.now() : () => 0;

  interface Prepared {
    partNumber: number;
    bytes: Buffer;
    crc: number;
    /** Undefined for a part reused from the journaled upload. */
    md5?: Buffer;
    t: PartTiming;
  }
  /** Reads and checksums one part into `buffer`. */
  const prepare = async (partNumber: number, buffer: Buffer, asked: number): Promise<Prepared> => {
    const granted = now();
    const start = (partNumber - 1) * partSize;
    const bytes = await body.readRange({ start, end: Math.min(body.size, start + partSize) }, signal, buffer);
    const read = now();
    const crc = crc32cOf(bytes);
    const t: PartTiming = { key, partNumber, bytes: bytes.length, asked, granted, read, crc: now() };
    const earlier = reusable.get(partNumber);
    // A reused part is still read: the CRC proves the source holds the same bytes as before.
    if (earlier && earlier.crc32c === crc) return { partNumber, bytes, crc, t };
    const md5 = createHash('md5').update(bytes).digest();
    t.md5 = now();
    return { partNumber, bytes, crc, md5, t };
  };
  const sendPart = async ({ partNumber, bytes, crc, md5, t }: Prepared & { md5: Buffer }) => {
    const headers = { 'content-md5': md5.toString('base64'), 'x-amz-checksum-crc32c': crc32cToBase64(crc) };
    const query = { partNumber: String(partNumber), uploadId };
    t.sending = now();
    const timing = timingParts() ? t : undefined;
    const etag = unquote(await send('upload part of', (abortSignal) => requests.conn.http.put(bucket, key, bytes, headers, abortSignal, query, timing), signal));
    t.answered = now();
    const md5Hex = md5.toString('hex');
    if (/^[0-9a-f]{32}$/i.test(etag) && etag.toLowerCase() !== md5Hex) {
      throw new FerryError(`part ${partNumber} of s3://${bucket}/${key} was stored with ETag ${etag}, expected MD5 ${md5Hex}`, { hint: 'run the copy again', exitCode: 1, code: 'ChecksumMismatch' });
    }
    const part = { partNumber, size: bytes.length, etag, md5: md5Hex, crc32c: crc };
    done.set(partNumber, part);
    partsSent++;
    u.onBytes?.(bytes.length);
    await journaled(() => u.journal.addPart(rowId, part));
    t.journaled = now();
  };
  const claim = () => (!signal.aborted && next <= partCount ? next++ : undefined);
  const worker = async () => {
    // Each worker keeps one part on the wire and reads and checksums its next part meanwhile, so
    // that a connection never waits for the disk or the hashing (measured in bench/transfer.ts):
    // two buffers, reused part after part, counted against the process's budget for part
    // buffers. The second is taken only when the budget has room, so that many uploads at once
    // still share the budget.
    const buffers: Buffer[] = [];
    const releases: (() => void)[] = [];
    const bufferFor = async (slot: number): Promise<Buffer | undefined> => {
      if (buffers[slot]) return buffers[slot];
      const release = slot === 0 ? await PART_BUFFERS.take(partSize, signal) : PART_BUFFERS.tryTake(partSize);
      if (!release) return undefined;
      releases.push(release);
      return (buffers[slot] = Buffer.allocUnsafe(partSize));
    };
    let ahead: Promise<Prepared> | undefined;
    try {
      let slot = 0;
      for (let partNumber = claim(); partNumber !== undefined;) {
        const asked = now();
        const current = await (ahead ?? prepare(partNumber, (await bufferFor(slot))!, asked));
        ahead = undefined;
        const following = claim();
        if (following !== undefined) {
          const spare = await bufferFor(1 - slot);
          if (spare) {
            ahead = prepare(following, spare, now());
            slot = 1 - slot;
          }
        }
        if (current.md5) await sendPart({ ...current, md5: current.md5 });
        else {
          done.set(current.partNumber, reusable.get(current.partNumber)!);
          partsReused++;
        }
        if (timingParts()) publishPartTiming(current.t);
        partNumber = following;
      }
    } finally {
      // A read still going into a buffer finishes before the buffer goes back to the budget.
      await ahead?.catch(() => {});
      for (const release of releases) release();
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(u.concurrency, partCount) }, async () => {
    try {
      await worker();
    } catch (e) {
      stop.abort(e);
      throw e;
    }
  }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed || u.signal?.aborted) {
    // Journaled, the upload stays for a re-run to resume instead of starting over.
    if (!u.resumable) {
      // Best effort: the error that stopped the upload is the one to report.
      await u.uploads.abortUpload(key, uploadId).catch(() => {});
      await u.journal.remove([rowId]);
    }
    throw u.signal?.aborted ? u.signal.reason : stop.signal.reason ?? failed!.reason;
  }

  const parts = [...done.values()].sort((a, b) => a.partNumber - b.partNumber);
  const crc = crc32cOfParts(parts.map((p) => ({ crc: p.crc32c, size: p.size })));
  const expectedEtag = multipartEtag(parts.map((p) => p.md5));
  let completedEtag = '';
  try {
    const completed = await send('complete multipart upload of', (abortSignal) => client.send(new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      ChecksumCRC32C: crc32cToBase64(crc),
      ChecksumType: 'FULL_OBJECT',
      MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"`, ChecksumCRC32C: crc32cToBase64(p.crc32c) })) },
    }), { abortSignal }));
    completedEtag = unquote(completed.ETag);
  } catch (e) {
    // A retried Complete whose first attempt succeeded answers NoSuchUpload: the HEAD below decides.
    if (!isNoSuchUpload(e)) throw e;
  }
  // Ceph answers Complete with an empty ETag; HEAD always tells the truth about what is stored.
  const head = await send('check', (abortSignal) => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }));
  const storedEtag = unquote(head.ETag) || completedEtag;
  const etagComparable = /^[0-9a-f]{32}-\d+$/i.test(storedEtag);
  if (head.ContentLength !== body.size || (etagComparable && storedEtag !== expectedEtag)) {
    await send('remove corrupted', (abortSignal) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }));
    await u.journal.remove([rowId]);
    throw new FerryError(
      `s3://${bucket}/${key} does not match what was sent (size ${head.ContentLength} vs ${body.size}, ETag ${storedEtag} vs ${expectedEtag}); it was removed`,
      { hint: 'run the copy again', exitCode: 1, code: 'ChecksumMismatch' },
    );
  }
  await u.uploads.settleFull(key, uploadId, u.signal);
  return { etag: storedEtag, crc32c: crc, partsSent, partsReused };
}

function journalError(journal: UploadJournal, e: unknown): FerryError {
  return new FerryError(`cannot write the upload journal at ${journal.where}: ${(e as Error).message}`, {
    hint: 'check that the ledger (and the folder beside it) is reachable and writable',
    code: 'JournalWrite',
    exitCode: 1,
    cause: e,
  });
}

/**
 * The journaled upload of this same source that the server still holds, the one with most parts
 * first. Rows whose upload the server no longer holds (completed or aborted elsewhere) are
 * forgotten; rows of another source are left for the settling at the end.
 */
async function findResumable(u: MultipartUpload, rows: JournaledUpload[]): Promise<Resumable | undefined> {
  const candidates = rows
    .filter((r) => r.uploadId !== undefined && r.sourceSize === u.body.size && r.sourceMtimeMs === (u.mtimeMs ?? null) &&
      Math.ceil(r.sourceSize / r.partSize) <= MAX_PARTS)
    .sort((a, b) => b.parts.length - a.parts.length || b.updatedAt - a.updatedAt);
  const { client } = await u.requests.conn.sdk();
  for (const row of candidates) {
    const onServer = new Map<number, { etag: string; size: number }>();
    let marker: string | undefined;
    try {
      do {
        const page = await u.requests.call('list parts of', u.key, () => client.send(new ListPartsCommand({
          Bucket: u.requests.bucket,
          Key: u.key,
          UploadId: row.uploadId,
          PartNumberMarker: marker,
        }), { abortSignal: u.signal }), u.signal);
        for (const p of page.Parts ?? []) onServer.set(p.PartNumber!, { etag: unquote(p.ETag), size: p.Size ?? -1 });
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (e) {
      if (!isNoSuchUpload(e)) throw e;
      await u.journal.remove([row.id]);
      continue;
    }
    return { row, onServer };
  }
  return undefined;
}
