// Housekeeping of the multipart uploads Ferry starts on S3: which pending uploads of a key are
// Ferry's, aborting them once the key is complete, and listing what is left for `ferry cleanup`.
//
// An upload is Ferry's when the journal names its id, or when the server began it for the key
// while a journaled attempt of Ferry's was asking for one and never (or only after a retry) wrote
// the answer down: between CreateMultipartUpload and the journal row a worker may be killed, and
// the server lists uploads by key and initiation time. Any other upload is another tool's and is
// never aborted unless the user asks. The SDK is reached through the connection, which loads it
// only when a request needs it.
import { isNoSuchUpload } from './s3-errors.ts';
import type { S3Requests } from './s3-requests.ts';
import type { MultipartUploads, PendingUpload } from './store.ts';
import type { JournaledUpload, UploadJournal, UploadTarget } from './upload-journal.ts';

/** How far this machine's clock may be from the server's (initiation times are the server's). */
export const CLOCK_SKEW_MS = 60_000;
/** The longest a CreateMultipartUpload may take, retries included: it is cancelled after that. */
export const CREATE_DEADLINE_MS = 5 * 60_000;

/**
 * When the server may have begun an upload for this attempt that the row does not name: while the
 * create was unanswered, or, if it was sent more than once, until the answer came.
 */
export function unnamedUploadWindow(r: JournaledUpload): [number, number] | undefined {
  if (r.uploadId === undefined) return [r.startedAt - CLOCK_SKEW_MS, r.startedAt + CREATE_DEADLINE_MS + CLOCK_SKEW_MS];
  if (r.createRetried) return [r.startedAt - CLOCK_SKEW_MS, (r.createdAt ?? r.startedAt) + CLOCK_SKEW_MS];
  return undefined;
}

function within(t: number, windows: [number, number][]): boolean {
  return windows.some(([from, to]) => t >= from && t <= to);
}

interface ServerUpload {
  key: string;
  uploadId: string;
  initiatedMs: number;
}

export class S3Uploads implements MultipartUploads {
  private readonly requests: S3Requests;
  private readonly prefix: string;
  private readonly journal: UploadJournal;

  constructor(requests: S3Requests, prefix: string, journal: UploadJournal) {
    this.requests = requests;
    this.prefix = prefix;
    this.journal = journal;
  }

  target(fullKey: string): UploadTarget {
    return { endpoint: this.requests.conn.endpointLabel, bucket: this.requests.bucket, key: fullKey };
  }

  async *list(signal?: AbortSignal): AsyncIterable<PendingUpload> {
    const t = this.target(this.prefix);
    const rows = await this.journal.uploadsUnder(t.endpoint, t.bucket, this.prefix);
    const named = new Map(rows.filter((r) => r.uploadId !== undefined).map((r) => [`${r.key}\n${r.uploadId}`, r]));
    const windows = new Map<string, [number, number][]>();
    for (const r of rows) {
      const w = unnamedUploadWindow(r);
      if (w) windows.set(r.key, [...(windows.get(r.key) ?? []), w]);
    }
    const held = new Set<string>();
    for await (const u of this.serverUploads(this.prefix, signal)) {
      const id = `${u.key}\n${u.uploadId}`;
      held.add(id);
      const row = named.get(id);
      yield {
        key: u.key.slice(this.prefix.length),
        uploadId: u.uploadId,
        initiatedMs: u.initiatedMs,
        origin: row ? 'journaled' : within(u.initiatedMs, windows.get(u.key) ?? []) ? 'unjournaled' : 'foreign',
        startedBy: row?.owner,
        lastActivityMs: Math.max(u.initiatedMs, row?.updatedAt ?? 0),
      };
    }
    const now = Date.now();
    for (const r of rows) {
      // A row still asking for its upload id may belong to a copy running now.
      const gone = r.uploadId !== undefined ? !held.has(`${r.key}\n${r.uploadId}`) : r.startedAt + CREATE_DEADLINE_MS < now;
      if (!gone) continue;
      yield { key: r.key.slice(this.prefix.length), uploadId: r.uploadId, origin: 'stale', startedBy: r.owner, lastActivityMs: r.updatedAt };
    }
  }

  async abort(u: PendingUpload): Promise<void> {
    const fullKey = this.prefix + u.key;
    if (u.uploadId !== undefined && u.origin !== 'stale') await this.abortUpload(fullKey, u.uploadId);
    const rows = await this.journal.uploadsOf(this.target(fullKey));
    const now = Date.now();
    // The rows that named it, or, for one never named, the attempts whose window it fell in; for a
    // stale row without an id, every attempt of the key that never got one and can no longer.
    const done = rows.filter((r) => {
      if (r.uploadId !== undefined) return r.uploadId === u.uploadId;
      if (u.origin === 'stale') return u.uploadId === undefined && r.startedAt + CREATE_DEADLINE_MS < now;
      const w = unnamedUploadWindow(r);
      return u.initiatedMs !== undefined && w !== undefined && within(u.initiatedMs, [w]);
    });
    await this.journal.remove(done.map((r) => r.id));
  }

  async journaledKeys(): Promise<Set<string>> {
    const t = this.target(this.prefix);
    const rows = await this.journal.uploadsUnder(t.endpoint, t.bucket, this.prefix);
    return new Set(rows.map((r) => r.key.slice(this.prefix.length)));
  }

  settle(key: string): Promise<void> {
    return this.settleFull(this.prefix + key);
  }

  /**
   * Aborts every upload of `fullKey` Ferry started except `completed` (the one that just became
   * the object), and forgets every row of the key.
   */
  async settleFull(fullKey: string, completed?: string, signal?: AbortSignal): Promise<void> {
    const rows = await this.journal.uploadsOf(this.target(fullKey));
    if (rows.length === 0) return;
    const doomed = new Set<string>();
    for (const r of rows) if (r.uploadId !== undefined && r.uploadId !== completed) doomed.add(r.uploadId);
    const windows = rows.map(unnamedUploadWindow).filter((w) => w !== undefined);
    if (windows.length > 0) {
      const named = new Set(rows.map((r) => r.uploadId));
      for await (const u of this.serverUploads(fullKey, signal)) {
        if (u.key !== fullKey || u.uploadId === completed || named.has(u.uploadId)) continue;
        if (within(u.initiatedMs, windows)) doomed.add(u.uploadId);
      }
    }
    for (const uploadId of doomed) await this.abortUpload(fullKey, uploadId, signal);
    await this.journal.remove(rows.map((r) => r.id));
  }

  async abortUpload(fullKey: string, uploadId: string, signal?: AbortSignal): Promise<void> {
    const { client, api } = await this.requests.conn.sdk();
    try {
      await this.requests.call('abort upload of', fullKey, () => client.send(new api.AbortMultipartUploadCommand({
        Bucket: this.requests.bucket,
        Key: fullKey,
        UploadId: uploadId,
      }), { abortSignal: signal }), signal);
    } catch (e) {
      if (!isNoSuchUpload(e)) throw e;
    }
  }

  /** Pending uploads of keys starting with `fullPrefix`, as the server lists them. */
  private async *serverUploads(fullPrefix: string, signal?: AbortSignal): AsyncIterable<ServerUpload> {
    const { client, api } = await this.requests.conn.sdk();
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.requests.call('list multipart uploads under', fullPrefix, () => client.send(new api.ListMultipartUploadsCommand({
        Bucket: this.requests.bucket,
        Prefix: fullPrefix,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }), { abortSignal: signal }), signal);
      for (const u of page.Uploads ?? []) {
        yield { key: u.Key!, uploadId: u.UploadId!, initiatedMs: u.Initiated?.getTime() ?? 0 };
      }
      [keyMarker, uploadIdMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextUploadIdMarker] : [undefined, undefined];
    } while (keyMarker !== undefined);
  }
}
