// The record that makes a large upload resumable: the multipart upload id, what the source looked
// like, and every part the server confirmed. Rewritten atomically after each part, so a process
// killed at any instant leaves either the previous or the next version, never a torn file.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface JournaledPart {
  partNumber: number;
  size: number;
  etag: string;
  /** Hex MD5 of the part, for the multipart ETag check at the end. */
  md5: string;
  /** CRC32C of the part, combined into the full-object checksum at the end. */
  crc32c: number;
}

export interface UploadRecord {
  version: 1;
  endpoint: string;
  bucket: string;
  key: string;
  uploadId: string;
  sourceSize: number;
  sourceMtimeMs: number | null;
  partSize: number;
  startedAt: string;
  parts: JournaledPart[];
}

export class UploadJournal {
  readonly file: string;
  private writes: Promise<void> = Promise.resolve();

  constructor(dir: string, endpoint: string, bucket: string, key: string) {
    const id = createHash('sha256').update(`${endpoint}\n${bucket}\n${key}`).digest('hex').slice(0, 32);
    this.file = path.join(dir, `${id}.json`);
  }

  async load(): Promise<UploadRecord | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const rec = JSON.parse(text) as UploadRecord;
      return rec.version === 1 && typeof rec.uploadId === 'string' && Array.isArray(rec.parts) ? rec : undefined;
    } catch {
      return undefined;
    }
  }

  /** Saves a snapshot; concurrent calls are applied in call order. */
  save(rec: UploadRecord): Promise<void> {
    const text = JSON.stringify(rec);
    const next = this.writes.then(() => this.writeAtomically(text));
    this.writes = next.catch(() => undefined);
    return next;
  }

  async remove(): Promise<void> {
    await this.writes;
    await fs.rm(this.file, { force: true });
  }

  private async writeAtomically(text: string): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, this.file);
  }
}
