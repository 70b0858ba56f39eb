// The headers of every transferred `.dat` of a tab, for the Render import: the first 1 KiB of each
// file (never the pixels) and its size, so that a file cut short is known without reading it. The
// transferred set is what check_tabs.py calls transferred, the archive folder and the transfer
// folder together; a tile in both is read from the archive (the folder 06_dat_to_render.sh reads).
//
// Reads run on the main thread while the filesystem answers from its cache (120,000 headers in about
// 2 s); on a slow filesystem they go in parallel through the thread pool (storage's SyncWhileFast
// rule). A file that cannot be read, is not a `.dat`, or is shorter than its header says is skipped
// and named with the reason; the caller decides whether the import may go on without it.
import fs, { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { isFerryError } from '../../../errors.ts';
import { DAT_HEADER_BYTES, expectedDatBytes, parseDatHeader } from '../../../formats/fibsem/header.ts';
import { DAT_SUFFIX } from '../../../formats/fibsem/names.ts';
import { tileHeaderOf } from '../../../formats/render/dat-tile.ts';
import type { DatTile } from '../../../formats/render/dat-tile.ts';
import { listFolderNames } from '../../../inventory/list-folder.ts';
import { mapLimited } from '../../../map-limited.ts';
import { SyncWhileFast } from '../../../storage/sync-while-fast.ts';
import type { Tab } from '../tab.ts';

/** A read slower than this is not from a local cache. */
const SLOW_READ_MS = 0.3;
/** Reads are timed in runs of this many, so one pause (a busy machine, a GC) does not look like a slow disk. */
const TIMED_RUN = 32;
/** Reads in flight once they go through the thread pool. */
const PARALLEL_READS = 64;
/** The main thread yields to other work this often while it reads. */
const SLICE_MS = 20;

export interface SkippedDat {
  name: string;
  path: string;
  reason: string;
}

export interface TabDatHeaders {
  tiles: DatTile[];
  skipped: SkippedDat[];
  /** The folders read, for messages. */
  folders: string[];
}

export interface ReadHeadersOptions {
  onProgress?(done: number, total: number): void;
  /** Decides main thread or thread pool; a fresh one (main thread until reads are slow) by default. */
  rule?: SyncWhileFast;
}

export async function readTabDatHeaders(tab: Tab, opts: ReadHeadersOptions = {}): Promise<TabDatHeaders> {
  const folders = [tab.folders.archiveDat, tab.folders.transferredDat];
  const paths = new Map<string, string>();
  for (const [dir, what] of [[folders[0], 'folders.archiveDat'], [folders[1], 'folders.transferredDat']]) {
    for (const name of await listFolderNames(dir, what)) {
      if (name.endsWith(DAT_SUFFIX) && !paths.has(name)) paths.set(name, join(dir, name));
    }
  }
  return { ...(await readDatHeaders([...paths].map(([name, path]) => ({ name, path })), opts)), folders };
}

type HeadResult = DatTile | SkippedDat;

/** The headers of these files, in the order given; the files that cannot be used apart. */
export async function readDatHeaders(files: { name: string; path: string }[], opts: ReadHeadersOptions = {}): Promise<{ tiles: DatTile[]; skipped: SkippedDat[] }> {
  const tiles: DatTile[] = [];
  const skipped: SkippedDat[] = [];
  for (const r of await readHeads(files, opts)) {
    if ('header' in r) tiles.push(r);
    else skipped.push(r);
  }
  return { tiles, skipped };
}

async function readHeads(files: { name: string; path: string }[], opts: ReadHeadersOptions): Promise<HeadResult[]> {
  const out: HeadResult[] = [];
  const rule = opts.rule ?? new SyncWhileFast();
  const buf = Buffer.allocUnsafe(DAT_HEADER_BYTES);
  let i = 0;
  while (i < files.length && rule.sync) {
    const sliceEnd = performance.now() + SLICE_MS;
    while (i < files.length && rule.sync && performance.now() < sliceEnd) {
      const run = files.slice(i, (i += TIMED_RUN));
      out.push(...rule.run(() => run.map((f) => headOf(f, attempt(() => readHeadSync(f.path, buf)))), () => run.length * SLOW_READ_MS));
    }
    opts.onProgress?.(out.length, files.length);
    await new Promise((resolve) => setImmediate(resolve));
  }
  let done = out.length;
  const rest = await mapLimited(files.slice(i), PARALLEL_READS, async (f) => {
    const r = headOf(f, await readHeadAsync(f.path).catch((e: unknown) => e as Error));
    if (++done % 1000 === 0) opts.onProgress?.(done, files.length);
    return r;
  });
  opts.onProgress?.(files.length, files.length);
  return out.concat(rest);
}

interface Head {
  bytes: Buffer;
  size: number;
}

function attempt(read: () => Head): Head | Error {
  try {
    return read();
  } catch (e) {
    return e as Error;
  }
}

function headOf(f: { name: string; path: string }, head: Head | Error): HeadResult {
  if (head instanceof Error) {
    const code = (head as NodeJS.ErrnoException).code;
    return { ...f, reason: `cannot be read: ${code ?? head.message}` };
  }
  try {
    const header = parseDatHeader(head.bytes, f.name);
    const expected = expectedDatBytes(header);
    if (head.size < expected) return { ...f, reason: `truncated: the header says ${expected} bytes, the file has ${head.size}` };
    return { name: f.name, header: tileHeaderOf(header) };
  } catch (e) {
    if (!isFerryError(e)) throw e;
    return { ...f, reason: e.message.replace(`${f.name}: `, '') };
  }
}

function readHeadSync(path: string, buf: Buffer): Head {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const n = readSync(fd, buf, 0, DAT_HEADER_BYTES, 0);
    return { bytes: buf.subarray(0, n), size };
  } finally {
    closeSync(fd);
  }
}

// Callbacks rather than a FileHandle: the same four calls through the pool, at half the cost per
// file (measured on 120,000 headers: 5 s against 10 s), which matters when every file goes this way.
function readHeadAsync(path: string): Promise<Head> {
  return new Promise((resolve, reject) => {
    fs.open(path, 'r', (openError, fd) => {
      if (openError) return reject(openError);
      const bytes = Buffer.allocUnsafe(DAT_HEADER_BYTES);
      fs.fstat(fd, (statError, st) => {
        if (statError) return fs.close(fd, () => reject(statError));
        fs.read(fd, bytes, 0, DAT_HEADER_BYTES, 0, (readError, n) => {
          fs.close(fd, (closeError) => {
            const e = readError ?? closeError;
            if (e) reject(e);
            else resolve({ bytes: bytes.subarray(0, n), size: st.size });
          });
        });
      });
    });
  });
}
