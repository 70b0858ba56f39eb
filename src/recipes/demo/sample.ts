// A small acquisition as an instrument leaves it: FIB-SEM-style tiles in date folders, a few large
// files and a log, generated deterministically so every demo run starts from the same bytes.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Bytes that depend only on (seed, size): a re-generated file is identical. */
export function sampleBytes(seed: string, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, size - off));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export interface SampleTree {
  files: number;
  bytes: number;
}

export async function writeSampleAcquisition(root: string, tiles = 300): Promise<SampleTree> {
  const files: [string, number][] = [];
  for (let i = 0; i < tiles; i++) {
    const day = 23 + Math.floor(i / 120);
    const t = String(84156 + i * 7).padStart(6, '0');
    files.push([`Y2021/M08/D${day}/Merlin-6285_21-08-${day}_${t}_0-0-${i % 2}.dat`, 40_000 + (i % 5) * 1_000]);
  }
  files.push(['volume/overview.tif', 12 * 1024 * 1024], ['volume/stack.raw', 20 * 1024 * 1024], ['logs/acquisition.log', 4096]);
  let bytes = 0;
  for (const [key, size] of files) {
    const p = join(root, key);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, sampleBytes(key, size));
    bytes += size;
  }
  return { files: files.length, bytes };
}
