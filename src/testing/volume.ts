// Shared by the volume tests and the browser test: section stacks with a known pattern (folders
// of images, aligned stacks of HDF5 and PNG sections with a registry), the voxels every scale
// should hold, the CLI round trip, and TensorStore's reading of a folder or bucket.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { boxShape, boxVoxels } from '../arrays/box.ts';
import type { Box, Vec3 } from '../arrays/box.ts';
import { copyRegion } from '../arrays/copy.ts';
import { allocateVoxels, bytesOfVoxels } from '../arrays/voxels.ts';
import type { DataType, VoxelArray } from '../arrays/voxels.ts';
import { writeHdf5 } from './hdf5.ts';
import type { Hdf5Spec } from './hdf5.ts';
import { scaleBox } from '../formats/precomputed/grid.ts';
import type { Info } from '../formats/precomputed/info.ts';
import { runFerry } from './cli.ts';
import type { RunResult } from './cli.ts';
import { downsample } from '../volume/downsample.ts';

/** Voxel (x, y, z) of a test stack, 0-based in the stack; `hole` is a box of zeros. */
export function stackVoxel(x: number, y: number, z: number, modulus: number, hole?: Box): number {
  if (hole && x >= hole.start[0] && x < hole.end[0] && y >= hole.start[1] && y < hole.end[1] && z >= hole.start[2] && z < hole.end[2]) return 0;
  return ((x * 7 + y * 13 + z * 101) % (modulus - 1)) + 1;
}

export interface TestStack {
  dir: string;
  size: Vec3;
  dataType: 'uint8' | 'uint16';
  /** Every voxel, x fastest. */
  voxels: VoxelArray;
}

/** Writes one grey PNG (or TIFF) per z, named with a number that starts at `firstNumber`. */
export async function writeStack(dir: string, size: Vec3, dataType: 'uint8' | 'uint16', opts: { hole?: Box; format?: 'png' | 'tiff'; firstNumber?: number } = {}): Promise<TestStack> {
  await mkdir(dir, { recursive: true });
  const modulus = dataType === 'uint8' ? 251 : 65521;
  const [w, h, d] = size;
  const voxels = allocateVoxels(dataType, w * h * d);
  for (let z = 0, i = 0; z < d; z++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) voxels[i++] = stackVoxel(x, y, z, modulus, opts.hole);
  for (let z = 0; z < d; z++) {
    const plane = voxels.subarray(z * w * h, (z + 1) * w * h);
    await writeSection(join(dir, `section_${String(z + (opts.firstNumber ?? 0)).padStart(4, '0')}.${opts.format ?? 'png'}`), w, h, dataType, plane as Uint8Array | Uint16Array, opts.format);
  }
  return { dir, size, dataType, voxels };
}

export async function writeSection(file: string, w: number, h: number, dataType: DataType, plane: Uint8Array | Uint16Array, format: 'png' | 'tiff' = 'png'): Promise<void> {
  // A typed array tells sharp the sample depth; tiff defaults to lossy jpeg compression.
  const img = sharp(plane, { raw: { width: w, height: h, channels: 1 } }).toColourspace(dataType === 'uint16' ? 'grey16' : 'b-w');
  await (format === 'png' ? img.png() : img.tiff({ compression: 'lzw' })).toFile(file);
}

/** Voxel at aligned (x, y, z) of a test's aligned stack: never zero, defined at negative coordinates too. */
export function alignedVoxel(x: number, y: number, z: number): number {
  return ((((x * 7 + y * 13 + z * 101) % 250) + 250) % 250) + 1;
}

export interface AlignedSection {
  /** The registry's name: `<name>.h5` for HDF5; a PNG's name includes `.png`. */
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  format: 'hdf5' | 'hdf5-gzip' | 'png';
  /** Listed in the registry but not written (a section missing from disk). */
  absent?: boolean;
}

/** Five sections whose boxes differ: HDF5 plain and gzip-chunked, and a PNG; much of their union is covered by none. */
export const ALIGNED_SECTIONS: AlignedSection[] = [
  { name: '1,1_prealigned', x: -37, y: -21, width: 90, height: 60, format: 'hdf5' },
  { name: '1,2_prealigned', x: 10, y: 5, width: 70, height: 80, format: 'hdf5-gzip' },
  { name: '1,3_prealigned', x: -50, y: 30, width: 40, height: 30, format: 'hdf5' },
  { name: '1,4_prealigned', x: 0, y: 0, width: 100, height: 50, format: 'hdf5-gzip' },
  { name: '2,1_section.png', x: -12, y: 17, width: 33, height: 29, format: 'png' },
];
/** Their union in the aligned space. */
export const ALIGNED_UNION: Box = { start: [-50, -21, 0], end: [100, 85, 5] };

/**
 * Writes an aligned stack as the registration pipeline leaves it: one section per z (HDF5 by
 * h5py, dataset `img`, rows along y; or a PNG), each holding alignedVoxel at its place, and
 * `registry.txt` listing them in z order (7-field lines, or 6-field ones with `sixFields`).
 */
export async function writeAlignedStack(dir: string, sections: AlignedSection[], opts: { sixFields?: boolean } = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  const h5: Hdf5Spec[] = [];
  for (const [z, s] of sections.entries()) {
    if (s.absent) continue;
    const plane = new Uint8Array(s.width * s.height);
    for (let j = 0, i = 0; j < s.height; j++) for (let k = 0; k < s.width; k++) plane[i++] = alignedVoxel(s.x + k, s.y + j, z);
    if (s.format === 'png') await writeSection(join(dir, s.name), s.width, s.height, 'uint8', plane);
    else h5.push({ out: join(dir, `${s.name}.h5`), samples: plane, shape: [s.height, s.width], ...(s.format === 'hdf5-gzip' ? { chunks: [16, 16], compression: 'gzip' as const } : {}) });
  }
  if (h5.length > 0) await writeHdf5(h5);
  const lines = sections.map((s) => [s.name, ...(opts.sixFields ? [] : ['0']), s.x, s.y, s.width, s.height, 1].join(' '));
  const registry = join(dir, 'registry.txt');
  await writeFile(registry, lines.join('\n') + '\n');
  return registry;
}

/** The voxels of `box` (aligned coordinates) an aligned stack holds: its sections where they are, zeros elsewhere. */
export function alignedVolume(sections: AlignedSection[], box: Box): Uint8Array {
  const [w, h, d] = boxShape(box);
  const out = new Uint8Array(w * h * d);
  for (let z = box.start[2]; z < box.end[2]; z++) {
    const s = sections[z];
    if (!s || s.absent) continue;
    for (let y = Math.max(box.start[1], s.y); y < Math.min(box.end[1], s.y + s.height); y++) {
      for (let x = Math.max(box.start[0], s.x); x < Math.min(box.end[0], s.x + s.width); x++) {
        out[((z - box.start[2]) * h + (y - box.start[1])) * w + (x - box.start[0])] = alignedVoxel(x, y, z);
      }
    }
  }
  return out;
}

/**
 * A ChunkFlow ingestion config shaped as seed 003's ingest2gs.json: a cutoutchunk stage reading
 * the aligned array of `registerFile` with `params`, a blendchunk stage writing to `path` (the
 * scale's folder, as BigArrays takes it).
 */
export async function writeChunkFlowConfig(file: string, c: { params: Record<string, unknown>; registerFile: string; path: string }): Promise<void> {
  const config = {
    input: { kind: 'cutoutchunk', params: { bigArrayType: 'aligned', ...c.params }, inputs: { registerFile: c.registerFile }, outputs: { data: 'img' } },
    blend2cloud: { kind: 'blendchunk', params: { backend: 'gs' }, inputs: { chunk: 'img' }, outputs: { path: c.path } },
  };
  await writeFile(file, JSON.stringify(config, null, 2));
}

/** What each scale of `info` must hold: the stack at its offset, then exact averages of it. */
export function expectedScales(info: Info, stack: VoxelArray, factor: Vec3): VoxelArray[] {
  const full = scaleBox(info.scales[0]);
  const out = [stack];
  if (info.scales.length > 1) out.push(...downsample({ data: stack, box: full, factor, levels: info.scales.length - 1, method: 'average' }).map((l) => l.data));
  return out;
}

export function crop(data: VoxelArray, from: Box, box: Box, t: DataType): VoxelArray {
  const out = allocateVoxels(t, boxVoxels(box));
  copyRegion(data, from, out, box, box);
  return out;
}

export function sameVoxels(actual: VoxelArray, expected: VoxelArray, what: string): void {
  if (bytesOfVoxels(actual).equals(bytesOfVoxels(expected))) return;
  const i = actual.findIndex((v: number | bigint, k: number) => v !== expected[k]);
  assert.fail(`${what}: ${actual.length} vs ${expected.length} voxels; first differing voxel ${i}: ${actual[i]} != ${expected[i]}`);
}

/** `ferry volume plan` then `ferry work --until-empty` (of the --run given), both expected to succeed. */
export async function ingest(ledger: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ plan: RunResult; work: RunResult }> {
  const plan = await runFerry(['volume', 'plan', ...args, '--ledger', ledger], { env });
  assert.equal(plan.code, 0, `plan failed:\n${plan.stdout}\n${plan.stderr}`);
  const run = args.indexOf('--run');
  const only = run >= 0 ? ['--run', args[run + 1]] : [];
  const work = await runFerry(['work', '--ledger', ledger, ...only, '--until-empty', '--concurrency', '2', '--retry-backoff', '0'], { env });
  assert.equal(work.code, 0, `work failed:\n${work.stdout}\n${work.stderr}`);
  return { plan, work };
}

const PYTHON = process.env.FERRY_PYTHON ?? 'python3';
const TS_SCRIPT = join(import.meta.dirname, 'testdata', 'tensorstore_read.py');

export function requireTensorStore(): void {
  const r = spawnSync(PYTHON, ['-c', 'import tensorstore'], { encoding: 'utf8' });
  if (r.status !== 0) {
    assert.fail(`TensorStore is not importable by ${PYTHON}: start scripts/services/tensorstore.sh and eval its env (FERRY_PYTHON)`);
  }
}

/** A TensorStore kvstore spec for a folder, or for a prefix of a bucket on an S3 endpoint. */
export function tensorStoreKvstore(where: string | { bucket: string; path: string; endpoint: string }): unknown {
  if (typeof where === 'string') return { driver: 'file', path: `${where}/` };
  return { driver: 's3', bucket: where.bucket, path: where.path, endpoint: where.endpoint, aws_region: 'us-east-1' };
}

/** Every scale of the volume as TensorStore reads it (checked against the info's bounds). */
export async function tensorStoreRead(kvstore: unknown, info: Info, env: NodeJS.ProcessEnv = {}): Promise<VoxelArray[]> {
  const out = await mkdtemp(join(tmpdir(), 'ferry-ts-out-'));
  try {
    const r = spawnSync(PYTHON, [TS_SCRIPT, JSON.stringify(kvstore), out], { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, ...env } });
    assert.equal(r.status, 0, `TensorStore failed to read ${JSON.stringify(kvstore)}:\n${r.stderr}`);
    const scales = JSON.parse(r.stdout) as { start: number[]; shape: number[] }[];
    assert.equal(scales.length, info.scales.length);
    const result: VoxelArray[] = [];
    for (let i = 0; i < scales.length; i++) {
      assert.deepEqual([scales[i].start, scales[i].shape], [info.scales[i].voxel_offset, info.scales[i].size], `TensorStore's bounds of scale ${i}`);
      const bytes = await readFile(join(out, `${i}.bin`));
      const a = allocateVoxels(info.data_type, bytes.byteLength / (info.data_type === 'uint8' ? 1 : 2));
      bytesOfVoxels(a).set(bytes);
      result.push(a);
    }
    return result;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
