// HDF5 files for tests, written by h5py (native libhdf5, the writer real sections come from), from
// samples the test made itself: the reader under test never writes what it is checked against.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PYTHON = process.env.FERRY_PYTHON ?? 'python3';
const SCRIPT = join(import.meta.dirname, 'testdata', 'h5_write.py');

export function requireH5py(): void {
  const r = spawnSync(PYTHON, ['-c', 'import h5py'], { encoding: 'utf8' });
  if (r.status !== 0) assert.fail(`h5py is not importable by ${PYTHON}: start scripts/services/tensorstore.sh and eval its env (FERRY_PYTHON)`);
}

export interface Hdf5Spec {
  out: string;
  /** Samples in C order (rows, then columns), as the dataset holds them. */
  samples: Uint8Array | Uint16Array | Float32Array;
  shape: number[];
  /** numpy dtype in the file, e.g. '>u2' for big-endian; default: the samples' own type. */
  stored?: string;
  dataset?: string;
  chunks?: number[];
  compression?: 'gzip' | 'lzf';
  shuffle?: boolean;
  fletcher32?: boolean;
}

function dtypeOf(a: Hdf5Spec['samples']): string {
  return a instanceof Uint8Array ? 'uint8' : a instanceof Uint16Array ? 'uint16' : 'float32';
}

/** Writes every file of `specs` in one run of h5py. */
export async function writeHdf5(specs: Hdf5Spec[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-h5-raw-'));
  try {
    const spec = await Promise.all(
      specs.map(async (s, i) => {
        const raw = join(dir, `${i}.bin`);
        await writeFile(raw, new Uint8Array(s.samples.buffer, s.samples.byteOffset, s.samples.byteLength));
        return { raw, out: s.out, shape: s.shape, dtype: dtypeOf(s.samples), stored: s.stored, dataset: s.dataset, chunks: s.chunks, compression: s.compression, shuffle: s.shuffle, fletcher32: s.fletcher32 };
      }),
    );
    const r = spawnSync(PYTHON, [SCRIPT, JSON.stringify(spec)], { encoding: 'utf8' });
    assert.equal(r.status, 0, `h5py could not write the test files:\n${r.stderr}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
