// A worker thread of the HDF5 reader: libhdf5 in WebAssembly (h5wasm) reading hyperslabs of a 2D
// dataset. A file is not copied into the WebAssembly file system: it appears there as a node whose
// reads go to the real file (a local path, with pread) or, for an object on S3 or GCS, to the main
// thread for the byte ranges libhdf5 asks for, kept in a small block cache for the one request.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type { Dataset, File as H5File } from 'h5wasm';
import { BRIDGE_BYTES, LENGTH, READY, STATE, WAITING } from './protocol.ts';
import type { BytesRequest, DatasetHeader, FileRef, Recycle, Reply, Request, WorkerSetup } from './protocol.ts';

/** The few calls of Emscripten's file system used here (h5wasm's types do not declare them). */
interface EmFs {
  createFile(parent: string, name: string, props: object, canRead: boolean, canWrite: boolean): EmNode;
  unlink(path: string): void;
  ErrnoError: new (errno: number) => Error;
}
interface EmNode {
  stream_ops: Record<string, unknown>;
}

const EIO = 29;
/** Blocks of an object fetched at once: libhdf5 reads a chunk or a 64 KiB sieve at a time. */
const BLOCK = 1 << 20;
const CACHED_BLOCKS = 64;
/** Rows of a region read per libhdf5 call, so the WebAssembly heap never holds a whole large region twice. */
const BAND_BYTES = 32 << 20;

/**
 * libhdf5's error stack, which it prints through console.error (captured before h5wasm binds it).
 * h5wasm does not always turn a failed call into an exception (a read through a missing filter
 * returns a buffer all the same), so anything printed during a request fails the request.
 */
const diagnostics: string[] = [];
console.error = (...args: unknown[]) => {
  if (diagnostics.length < 200) diagnostics.push(args.join(' '));
};
const setup = workerData as WorkerSetup;
if (setup.compileCache) enableCompileCache(setup.compileCache);
const { default: h5wasm } = await import('h5wasm');
const wasm = await h5wasm.ready;
const FS = (wasm as unknown as { FS: EmFs }).FS;
const port = parentPort!;
const control = new Int32Array(setup.control);
const shared = new Uint8Array(setup.data);

/**
 * Where libhdf5 reads a band of rows (on the WebAssembly heap), and the buffers replies carry
 * (handed back by the main thread): both reused, so that a region costs no fresh pages, whose
 * first touch is a page fault each.
 */
let scratch = { ptr: 0, bytes: 0 };
const spare: ArrayBuffer[] = [];
const SPARE_BUFFERS = 4;

function heapBuffer(bytes: number): number {
  if (bytes > scratch.bytes) {
    if (scratch.ptr) wasm._free(scratch.ptr);
    scratch = { ptr: 0, bytes: 0 };
    const ptr = wasm._malloc(bytes);
    if (!ptr) throw new Error(`could not be read: ${bytes} bytes do not fit in the HDF5 reader's memory`);
    scratch = { ptr, bytes };
  }
  return scratch.ptr;
}

function replyBuffer(bytes: number): ArrayBuffer {
  const i = spare.findIndex((b) => b.byteLength >= bytes && b.byteLength <= 2 * bytes);
  return i >= 0 ? spare.splice(i, 1)[0] : new ArrayBuffer(bytes);
}

/** Bytes [start, end) of a remote file, from the main thread; blocks until they arrive. */
function fetchRemote(token: number, start: number, end: number, into: Uint8Array): void {
  for (let at = start; at < end; ) {
    const n = Math.min(end - at, BRIDGE_BYTES);
    Atomics.store(control, STATE, WAITING);
    port.postMessage({ bytes: true, token, start: at, end: at + n } satisfies BytesRequest);
    Atomics.wait(control, STATE, WAITING);
    const got = Atomics.load(control, LENGTH);
    if (got !== n) throw new FS.ErrnoError(EIO);
    into.set(shared.subarray(0, n), at - start);
    at += n;
  }
}

/**
 * A reader of one remote file that fetches whole aligned blocks and keeps the last CACHED_BLOCKS
 * of them for this request (libhdf5 comes back to its B-tree nodes and to neighbouring chunks).
 */
function remoteReader(token: number, size: number): (dst: Uint8Array, position: number) => void {
  // In use order, the least recently used first.
  const blocks = new Map<number, Uint8Array>();
  return (dst, position) => {
    const first = Math.floor(position / BLOCK);
    const last = Math.floor((position + dst.length - 1) / BLOCK);
    // Runs of missing blocks are fetched in one range each.
    for (let b = first; b <= last; ) {
      if (blocks.has(b)) {
        b++;
        continue;
      }
      let e = b;
      while (e + 1 <= last && !blocks.has(e + 1)) e++;
      const start = b * BLOCK;
      const end = Math.min((e + 1) * BLOCK, size);
      const run = new Uint8Array(end - start);
      fetchRemote(token, start, end, run);
      for (let k = b; k <= e; k++) blocks.set(k, run.subarray((k - b) * BLOCK, Math.min((k - b + 1) * BLOCK, run.length)));
      b = e + 1;
    }
    for (let b = first; b <= last; b++) {
      const block = blocks.get(b)!;
      blocks.delete(b);
      blocks.set(b, block);
      const from = Math.max(position, b * BLOCK);
      const to = Math.min(position + dst.length, b * BLOCK + block.length);
      dst.set(block.subarray(from - b * BLOCK, to - b * BLOCK), from - position);
    }
    for (const b of blocks.keys()) {
      if (blocks.size <= CACHED_BLOCKS) break;
      blocks.delete(b);
    }
  };
}

let serial = 0;

/** Makes `file` readable by libhdf5 under a fresh name, for the length of `use`. */
function withFile<T>(file: FileRef, use: (name: string) => T): T {
  let fd: number | undefined;
  let size: number;
  let read: (dst: Uint8Array, position: number) => void;
  if ('path' in file) {
    let local: number;
    try {
      local = openSync(file.path, 'r');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Error(err.code === 'ENOENT' ? 'does not exist' : `could not be opened: ${err.message}`);
    }
    fd = local;
    size = fstatSync(local).size;
    read = (dst, position) => {
      let done = 0;
      while (done < dst.length) {
        const n = readSync(local, dst, done, dst.length - done, position + done);
        if (n === 0) throw new FS.ErrnoError(EIO);
        done += n;
      }
    };
  } else {
    size = file.size;
    read = remoteReader(file.token, file.size);
  }
  const name = `/section-${serial++}.h5`;
  const node = FS.createFile('/', name.slice(1), {}, true, false);
  Object.defineProperty(node, 'usedBytes', { get: () => size });
  node.stream_ops = {
    ...node.stream_ops,
    read(_stream: unknown, heap: Int8Array, offset: number, length: number, position: number): number {
      const n = Math.max(0, Math.min(length, size - position));
      if (n > 0) read(new Uint8Array(heap.buffer, heap.byteOffset + offset, n), position);
      return n;
    },
  };
  try {
    return use(name);
  } finally {
    FS.unlink(name);
    if (fd !== undefined) closeSync(fd);
  }
}

function dtypeOf(ds: Dataset): string {
  const m = ds.metadata;
  // H5T_INTEGER = 0, H5T_FLOAT = 1 (h5wasm's H5T_class_t)
  if (m.type === 0) return `${m.signed ? 'int' : 'uint'}${m.size * 8}`;
  if (m.type === 1) return `float${m.size * 8}`;
  return `an HDF5 type of class ${m.type}`;
}

function headerOf(ds: Dataset): DatasetHeader {
  return { shape: ds.shape ?? [], dtype: dtypeOf(ds), filters: ds.filters.map((f) => f.name), chunks: ds.metadata.chunks };
}

function openDataset(f: H5File, dataset: string): Dataset {
  const entity = f.get(dataset);
  if (!(entity instanceof h5wasm.Dataset)) {
    const names = f.keys();
    throw new Error(`has no dataset '${dataset}' (it holds ${names.length ? names.map((n) => `'${n}'`).join(', ') : 'nothing'})`);
  }
  return entity;
}

/**
 * The region's samples, rows of `width`, little-endian (libhdf5 converts to h5wasm's little-endian
 * memory type), in the first bytes of a reply buffer. Read a band of rows at a time straight into
 * the heap (h5wasm's Dataset.slice would copy each band out twice more).
 */
function readRegion(ds: Dataset, region: { x: number; y: number; width: number; height: number }): { data: ArrayBuffer; length: number } {
  const rowBytes = region.width * ds.metadata.size;
  const length = rowBytes * region.height;
  const data = replyBuffer(length);
  const out = new Uint8Array(data, 0, length);
  const band = Math.max(1, Math.min(region.height, Math.floor(BAND_BYTES / Math.max(rowBytes, 1))));
  const ptr = heapBuffer(band * rowBytes);
  for (let y = 0; y < region.height; y += band) {
    const rows = Math.min(band, region.height - y);
    wasm.get_dataset_data(ds.file_id, ds.path, [BigInt(rows), BigInt(region.width)], [BigInt(region.y + y), BigInt(region.x)], [1n, 1n], BigInt(ptr));
    out.set(wasm.HEAPU8.subarray(ptr, ptr + rows * rowBytes), y * rowBytes);
  }
  return { data, length };
}

/**
 * What libhdf5's error stack says went wrong: a missing filter ("required filter 'lzf' is not
 * registered", above the plugin search that failed after it), else its innermost frame.
 */
function innermostDiagnostic(): string | undefined {
  const frames = diagnostics.flatMap((l) => [...l.matchAll(/#\d+: .* in \w+\(\): (.*)$/gm)].map((m) => m[1]));
  return frames.find((m) => /required filter/.test(m)) ?? frames.at(-1) ?? diagnostics.find((l) => l.trim() !== '');
}

function handle(req: Request): Reply {
  return withFile(req.file, (name) => {
    const f = new h5wasm.File(name, 'r');
    // A failed open leaves a negative id rather than throwing.
    if (f.file_id < 0n) throw new Error(`is not an HDF5 file (${innermostDiagnostic() ?? 'libhdf5 cannot open it'})`);
    try {
      const ds = openDataset(f, req.dataset);
      const header = headerOf(ds);
      const readable = header.shape.length === 2 && /^uint(8|16)$/.test(header.dtype);
      if (req.op === 'probe') {
        // One sample, so that a filter libhdf5 lacks (lzf, blosc, ...) shows up when planning.
        if (readable && header.shape[0] > 0 && header.shape[1] > 0) readRegion(ds, { x: 0, y: 0, width: 1, height: 1 });
        return { id: req.id, ok: true, header };
      }
      const r = req.region;
      const fits = readable && r.y >= 0 && r.x >= 0 && r.y + r.height <= header.shape[0] && r.x + r.width <= header.shape[1];
      return { id: req.id, ok: true, header, ...(fits ? readRegion(ds, r) : {}) };
    } finally {
      f.close();
    }
  });
}

port.on('message', (req: Request | Recycle) => {
  if ('recycle' in req) {
    if (spare.length < SPARE_BUFFERS) spare.push(req.recycle);
    return;
  }
  diagnostics.length = 0;
  let reply: Reply;
  try {
    reply = handle(req);
    const problem = innermostDiagnostic();
    if (problem !== undefined) reply = { id: req.id, ok: false, message: `could not be read: ${problem}` };
  } catch (e) {
    reply = { id: req.id, ok: false, message: (e as Error).message };
  }
  port.postMessage(reply, reply.ok && reply.data ? [reply.data] : []);
});
