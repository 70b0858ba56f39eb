// What the HDF5 reader (reader.ts, main thread) and its workers (worker.ts) say to each other.
// libhdf5 (compiled to WebAssembly by h5wasm) reads a file synchronously; a file on an object
// store arrives asynchronously. A worker asking for bytes posts a BytesRequest and blocks on
// Atomics.wait; the main thread fetches the range, puts it in the worker's shared buffer, and
// wakes it. One request is outstanding per worker at a time.

/** The bytes a worker can take in one wake-up; a larger read is asked for in pieces. */
export const BRIDGE_BYTES = 8 << 20;

/** Slots of the worker's shared Int32Array. */
export const STATE = 0;
export const LENGTH = 1;
/** STATE values: the worker waits while it is WAITING. */
export const WAITING = 0;
export const READY = 1;

/** What a worker starts with. */
export interface WorkerSetup {
  /** Int32Array [STATE, LENGTH]; LENGTH < 0 means the read failed. */
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
  /** The main thread's compile cache, so that each worker does not compile h5wasm's 4 MB again. */
  compileCache?: string;
}

/** A file as the worker sees it: a local path it reads itself, or a token for the main thread. */
export type FileRef = { path: string } | { token: number; size: number };

/** Rows [y, y + height) and columns [x, x + width) of a 2D dataset (first dimension = rows). */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Request =
  | { id: number; op: 'probe'; file: FileRef; dataset: string }
  | { id: number; op: 'read'; file: FileRef; dataset: string; region: Region };

/** What a dataset holds, as far as the reader can tell without reading it all. */
export interface DatasetHeader {
  /** [rows, columns] for a 2D dataset; any other rank is reported as it is. */
  shape: number[];
  /** 'uint8' | 'uint16', or a description of any other element type. */
  dtype: string;
  /** Filter names in pipeline order (deflate, shuffle, ...). */
  filters: string[];
  chunks: number[] | null;
}

/** A region's samples come in `data` (its first `length` bytes); the buffer goes back to the worker for the next region. */
export type Reply =
  | { id: number; ok: true; header: DatasetHeader; data?: ArrayBuffer; length?: number }
  | { id: number; ok: false; message: string };

/** A reply's buffer, handed back once its samples are copied out. */
export interface Recycle {
  recycle: ArrayBuffer;
}

export interface BytesRequest {
  bytes: true;
  token: number;
  start: number;
  end: number;
}
