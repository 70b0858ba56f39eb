// The record that makes a large upload resumable and findable: for every multipart upload Ferry
// starts, a row written before CreateMultipartUpload is sent (the intent, with the time), given
// the upload id once the server answers, and every part the server confirmed. Kept where every
// worker of a ledger sees it (see src/ledger/transfer-state/), so whichever worker finishes a file
// can abort the uploads that others left of it, and one killed between asking and being told the
// upload id is still known by its key and the time it asked.

export interface JournaledPart {
  partNumber: number;
  size: number;
  etag: string;
  /** Hex MD5 of the part, for the multipart ETag check at the end. */
  md5: string;
  /** CRC32C of the part, combined into the full-object checksum at the end. */
  crc32c: number;
}

/** One object at one endpoint: what uploads are journaled by. */
export interface UploadTarget {
  /** The endpoint as S3Connection.endpointLabel names it. */
  endpoint: string;
  bucket: string;
  /** The full object key. */
  key: string;
}

export interface UploadIntent extends UploadTarget {
  sourceSize: number;
  sourceMtimeMs: number | null;
  partSize: number;
  /** Host and process, for messages. */
  owner: string;
  /** When CreateMultipartUpload was about to be sent, epoch ms on this machine's clock. */
  startedAt: number;
}

export interface JournaledUpload extends UploadIntent {
  /** The journal's own id of the row. */
  id: number;
  /** Undefined while (or if forever) CreateMultipartUpload has not answered. */
  uploadId?: string;
  /** When the server gave the upload id. */
  createdAt?: number;
  /**
   * The create was sent more than once (a retry after a lost answer): uploads of the key the
   * server initiated between startedAt and createdAt may be Ferry's too.
   */
  createRetried: boolean;
  updatedAt: number;
  /** Only filled by uploadsOf. */
  parts: JournaledPart[];
}

export interface UploadJournal {
  /** Where the journal is kept, for messages. */
  readonly where: string;
  /** Records the intent to create an upload; returns the row's id. Written before the create is sent. */
  begin(intent: UploadIntent): Promise<number>;
  /**
   * The upload id the server gave the intent `id`. Writes the row again if it is gone (a worker
   * that completed the same key meanwhile removes every row of it), so an upload id is never lost.
   */
  created(id: number, intent: UploadIntent, uploadId: string, createdAt: number, retried: boolean): Promise<number>;
  /** A part the server confirmed; ignored when the row is gone. */
  addPart(id: number, part: JournaledPart): Promise<void>;
  /** Every row of one object, oldest first, with their parts. */
  uploadsOf(target: UploadTarget): Promise<JournaledUpload[]>;
  /** Every row under a key prefix of a bucket (without parts): for housekeeping. */
  uploadsUnder(endpoint: string, bucket: string, prefix: string): Promise<JournaledUpload[]>;
  /** Forgets rows and their parts. */
  remove(ids: number[]): Promise<void>;
}

/**
 * A journal in this process's memory: what a store opened without a durable journal uses (then
 * an interrupted upload is aborted, as nothing else could resume it), and tests.
 */
export class MemoryUploadJournal implements UploadJournal {
  readonly where = 'memory';
  private readonly rows = new Map<number, JournaledUpload>();
  private nextId = 1;

  async begin(intent: UploadIntent): Promise<number> {
    const id = this.nextId++;
    this.rows.set(id, { ...intent, id, createRetried: false, updatedAt: Date.now(), parts: [] });
    return id;
  }

  async created(id: number, intent: UploadIntent, uploadId: string, createdAt: number, retried: boolean): Promise<number> {
    const row = this.rows.get(id) ?? { ...intent, id: (id = this.nextId++), createRetried: false, updatedAt: 0, parts: [] };
    this.rows.set(id, { ...row, uploadId, createdAt, createRetried: retried, updatedAt: Date.now() });
    return id;
  }

  async addPart(id: number, part: JournaledPart): Promise<void> {
    const row = this.rows.get(id);
    if (!row) return;
    row.parts = [...row.parts.filter((p) => p.partNumber !== part.partNumber), part].sort((a, b) => a.partNumber - b.partNumber);
    row.updatedAt = Date.now();
  }

  async uploadsOf(t: UploadTarget): Promise<JournaledUpload[]> {
    return [...this.rows.values()].filter((r) => r.endpoint === t.endpoint && r.bucket === t.bucket && r.key === t.key).map((r) => ({ ...r }));
  }

  async uploadsUnder(endpoint: string, bucket: string, prefix: string): Promise<JournaledUpload[]> {
    return [...this.rows.values()].filter((r) => r.endpoint === endpoint && r.bucket === bucket && r.key.startsWith(prefix)).map((r) => ({ ...r, parts: [] }));
  }

  async remove(ids: number[]): Promise<void> {
    for (const id of ids) this.rows.delete(id);
  }
}
