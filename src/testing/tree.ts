// Generated file trees for tests and benchmarks: deterministic content, so two runs compare.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { sampleBytes } from '../recipes/demo/sample.ts';
import { dirname, join, relative } from 'node:path';

export async function tempDir(prefix = 'ferry-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Bytes that depend only on (seed, size): a re-generated tree is identical. */
export const content = sampleBytes;

/** Writes `count` files of `size` bytes spread over nested folders; returns their keys. */
export async function makeTree(root: string, count: number, size: number | ((i: number) => number), perFolder = 100): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = `d${Math.floor(i / perFolder)}/${i % 3 === 0 ? 'sub/' : ''}f${i}.bin`;
    const p = join(root, key);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, content(key, typeof size === 'number' ? size : size(i)));
    keys.push(key);
  }
  return keys;
}

/** Every regular file under root (hidden ones too) with its size and SHA-256, keyed by relative path. */
export async function snapshot(root: string): Promise<Map<string, { size: number; sha256: string; mtimeMs: number }>> {
  const out = new Map<string, { size: number; sha256: string; mtimeMs: number }>();
  const walk = async (dir: string) => {
    for (const ent of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, ent.name);
      if (ent.isDirectory()) await walk(p);
      else if (ent.isFile()) {
        const s = await stat(p);
        out.set(relative(root, p), { size: s.size, sha256: createHash('sha256').update(await readFile(p)).digest('hex'), mtimeMs: s.mtimeMs });
      }
    }
  };
  await walk(root);
  return out;
}
