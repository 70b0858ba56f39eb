// Shared by the volume tests and the browser test: section stacks with a known pattern, the
// voxels every scale should hold, the CLI round trip, and TensorStore's reading of a folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { boxVoxels } from '../../arrays/box.ts';
import type { Box, Vec3 } from '../../arrays/box.ts';
import { copyRegion } from '../../arrays/copy.ts';
import { allocateVoxels, bytesOfVoxels } from '../../arrays/voxels.ts';
import type { DataType, VoxelArray } from '../../arrays/voxels.ts';
import { scaleBox } from '../../formats/precomputed/grid.ts';
import type { Info } from '../../formats/precomputed/info.ts';
import { runFerry } from '../../testing/cli.ts';
import type { RunResult } from '../../testing/cli.ts';
import { downsample } from '../../volume/downsample.ts';

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
