// Reads 2D HDF5 datasets (a section of an aligned stack) a region at a time, on worker threads
// that run libhdf5 compiled to WebAssembly (h5wasm: no native build, gzip and shuffle built in).
// libhdf5 reads only the parts of the file a hyperslab needs: a local file through pread, a file on
// an object store through byte-range reads that the main thread makes for the worker (see
// protocol.ts). Threads start on first use, one per core, and keep the process alive only while
// they have work.
import { getCompileCacheDir } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BRIDGE_BYTES, LENGTH, READY, STATE } from './protocol.ts';
import type { BytesRequest, DatasetHeader, Recycle, Region, Reply, Request, WorkerSetup } from './protocol.ts';

export type { DatasetHeader, Region } from './protocol.ts';

/** Where an HDF5 file's bytes come from: a local path, or ranges of an object of known size. */
export type Hdf5Source = { path: string } | { size: number; readRange(start: number, end: number): Promise<Uint8Array> };

export interface RegionData {
  header: DatasetHeader;
  /**
   * The region's samples, rows of `region.width`, little-endian; undefined when the dataset is not
   * a 2D array of unsigned 8- or 16-bit samples holding the region (the header says what it is).
   */
  data: Uint8Array | undefined;
  /** Hands `data`'s memory back to the reader for another region; `data` must not be used after. */
  release(): void;
}

type Work = { op: 'probe'; dataset: string } | { op: 'read'; dataset: string; region: Region };

type Done = { reply: Extract<Reply, { ok: true }>; slot: Slot };

interface Job {
  work: Work;
  source: Hdf5Source;
  resolve(done: Done): void;
  reject(e: Error): void;
  /** The object store's error behind a failed read, which says more than libhdf5's. */
  ioError?: Error;
}

interface Slot {
  worker: Worker;
  control: Int32Array;
  data: Uint8Array;
  job?: Job;
}

/**
 * Threads at most: one per core, up to 16. Each holds a WebAssembly heap as large as the largest
 * region it has read, and a task reads a few sections per core at once (volume/sections.ts).
 */
const MAX_THREADS = Math.min(availableParallelism(), 16);

let nextId = 1;
const slots: Slot[] = [];
const queue: Job[] = [];

function startSlot(): Slot {
  const setup: WorkerSetup = { control: new SharedArrayBuffer(8), data: new SharedArrayBuffer(BRIDGE_BYTES), compileCache: getCompileCacheDir() };
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: setup });
  const slot: Slot = { worker, control: new Int32Array(setup.control), data: new Uint8Array(setup.data) };
  worker.on('message', (msg: Reply | BytesRequest) => ('bytes' in msg ? serveBytes(slot, msg) : finish(slot, msg)));
  const fail = (e: Error) => {
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    const job = slot.job;
    slot.job = undefined;
    job?.reject(new Error(`the HDF5 reader thread stopped: ${e.message}`));
    dispatch();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  worker.unref();
  slots.push(slot);
  return slot;
}

function serveBytes(slot: Slot, req: BytesRequest): void {
  const job = slot.job!;
  const answer = (length: number) => {
    Atomics.store(slot.control, LENGTH, length);
    Atomics.store(slot.control, STATE, READY);
    Atomics.notify(slot.control, STATE);
  };
  if ('path' in job.source) return answer(-1);
  job.source.readRange(req.start, req.end).then(
    (bytes) => {
      slot.data.set(bytes.subarray(0, Math.min(bytes.length, BRIDGE_BYTES)));
      answer(bytes.length);
    },
    (e: Error) => {
      job.ioError = e;
      answer(-1);
    },
  );
}

function finish(slot: Slot, reply: Reply): void {
  const job = slot.job!;
  slot.job = undefined;
  slot.worker.unref();
  if (reply.ok) job.resolve({ reply, slot });
  else job.reject(job.ioError ?? new Error(reply.message));
  dispatch();
}

function dispatch(): void {
  while (queue.length > 0) {
    const slot = slots.find((s) => !s.job) ?? (slots.length < MAX_THREADS ? startSlot() : undefined);
    if (!slot) return;
    const job = queue.shift()!;
    slot.job = job;
    // A thread with work keeps the process alive until the reply arrives.
    slot.worker.ref();
    const id = nextId++;
    const file = 'path' in job.source ? { path: job.source.path } : { token: id, size: job.source.size };
    slot.worker.postMessage({ ...job.work, id, file } as Request);
  }
}

function run(source: Hdf5Source, work: Work): Promise<Done> {
  return new Promise((resolve, reject) => {
    queue.push({ work, source, resolve, reject });
    dispatch();
  });
}

/** The dataset's shape, element type and filters; reads one sample, so a missing filter shows now. */
export async function probeDataset(source: Hdf5Source, dataset: string): Promise<DatasetHeader> {
  return (await run(source, { op: 'probe', dataset })).reply.header;
}

/** Rows [y, y+height) and columns [x, x+width) of a 2D dataset of unsigned 8- or 16-bit samples. */
export async function readDatasetRegion(source: Hdf5Source, dataset: string, region: Region): Promise<RegionData> {
  const { reply, slot } = await run(source, { op: 'read', dataset, region });
  const buffer = reply.data;
  let released = false;
  return {
    header: reply.header,
    data: buffer && new Uint8Array(buffer, 0, reply.length),
    release() {
      // A thread that has stopped since is gone, and its buffers with it.
      if (!buffer || released || !slots.includes(slot)) return;
      released = true;
      slot.worker.postMessage({ recycle: buffer } satisfies Recycle, [buffer]);
    },
  };
}
