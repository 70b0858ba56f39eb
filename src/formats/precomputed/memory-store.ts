// A VolumeStore held in memory, for tests and for building a small volume before saving it to a
// folder. Reading a missing key throws, as real drivers do, so readers must handle absence.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { ByteRange, ObjectInfo, RangeSource, WriteOptions, WriteResult } from '../../storage/store.ts';
import type { VolumeStore } from './store.ts';

export interface StoredObject {
  body: Buffer;
  contentEncoding?: string;
  cacheControl?: string;
}

export class MemoryStore implements VolumeStore {
  readonly url = 'memory:///';
  readonly objects = new Map<string, StoredObject>();
  /** Every write, in order, so tests can see what was (and was not) sent. */
  readonly writes: string[] = [];

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const o = this.objects.get(key);
    return o && { key, size: o.body.byteLength, mtimeMs: 0, contentEncoding: o.contentEncoding };
  }

  async readBytes(key: string, range?: ByteRange): Promise<Buffer> {
    const o = this.objects.get(key);
    if (!o) throw Object.assign(new Error(`ENOENT: ${key}`), { code: 'ENOENT' });
    return range ? o.body.subarray(range.start, Math.min(range.end, o.body.byteLength)) : o.body;
  }

  async write(key: string, source: Buffer | RangeSource, opts: WriteOptions = {}): Promise<WriteResult> {
    const body = Buffer.isBuffer(source) ? source : await source.readRange({ start: 0, end: source.size });
    this.objects.set(key, { body: Buffer.from(body), contentEncoding: opts.contentEncoding, cacheControl: opts.cacheControl });
    this.writes.push(key);
    return { key, size: body.byteLength, crc32c: '', partsSent: 0, partsReused: 0 };
  }

  /** Writes every object as a file under `dir` (bodies as stored). */
  async saveTo(dir: string): Promise<void> {
    for (const [key, o] of this.objects) {
      const path = join(dir, key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, o.body);
    }
  }

  /** A store holding every file under `dir`. */
  static async loadFrom(dir: string): Promise<MemoryStore> {
    const store = new MemoryStore();
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      store.objects.set(relative(dir, path).split('\\').join('/'), { body: await readFile(path) });
    }
    return store;
  }
}
