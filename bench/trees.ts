// Large generated trees for the benchmarks, made once and kept between runs: a million files take
// minutes to write and gigabytes of disk. They live under $FERRY_BENCH_TREES (default: a folder
// in the system's temporary folder), each named by its shape, and count as made only once a marker
// beside them says so, so a run killed half-way writes the tree again instead of using a part.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FERRY_BIN } from '../src/testing/cli.ts';
import { content } from '../src/testing/tree.ts';

export const TREES = process.env.FERRY_BENCH_TREES ?? join(tmpdir(), 'ferry-bench-trees');

/** Where a kept tree (or a tool's copy of one) lives, and whether it is complete. */
export function keptPath(name: string): { path: string; complete: boolean; markComplete: () => void } {
  const path = join(TREES, name);
  const marker = `${path}.complete`;
  return { path, complete: existsSync(marker) && existsSync(path), markComplete: () => writeFileSync(marker, new Date().toISOString()) };
}

/**
 * `count` files of `size` bytes, `perFolder` to a folder (a third of them one folder deeper), the
 * layout of src/testing/tree.ts's makeTree: made on the first call, reused after. Each file's
 * first bytes are its own, the rest shared, so writing a million costs the disk, not hashing.
 */
export function keptTree(count: number, size: number, perFolder = 500): string {
  const t = keptPath(`tree-${count}x${size}`);
  if (t.complete) return t.path;
  rmSync(t.path, { recursive: true, force: true });
  process.stderr.write(`writing ${count.toLocaleString('en')} files of ${size} bytes to ${t.path} (once; kept for later runs)\n`);
  const filler = content('filler', size);
  const made = new Set<string>();
  for (let i = 0; i < count; i++) {
    const key = `d${Math.floor(i / perFolder)}/${i % 3 === 0 ? 'sub/' : ''}f${i}.bin`;
    const folder = join(t.path, key.slice(0, key.lastIndexOf('/')));
    if (!made.has(folder)) {
      mkdirSync(folder, { recursive: true });
      made.add(folder);
    }
    const bytes = Buffer.from(filler);
    content(key, 32).copy(bytes, 0, 0, Math.min(32, size));
    writeFileSync(join(t.path, key), bytes);
  }
  t.markComplete();
  return t.path;
}

/**
 * Ferry's own copy of a kept tree, folder to folder, with the ledger that holds its manifest: what
 * a no-change re-sync compares with. Made by `ferry sync` on the first call (a million files take
 * the better part of an hour: every file is fsynced), reused after; a re-sync changes neither.
 */
export function keptFerryCopy(tree: string, name: string): { dst: string; ledger: string } {
  const t = keptPath(`ferry-copy-of-${name}`);
  const dst = join(t.path, 'dst');
  const ledger = join(t.path, 'ledger.sqlite');
  if (t.complete) return { dst, ledger };
  rmSync(t.path, { recursive: true, force: true });
  mkdirSync(t.path, { recursive: true });
  process.stderr.write(`copying ${tree} to ${dst} with ferry sync (once; kept for later runs)\n`);
  const r = spawnSync(process.execPath, [FERRY_BIN, 'sync', tree, dst], { env: { ...process.env, FERRY_LEDGER: ledger, FERRY_WORKDIR: join(t.path, 'work') }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`ferry sync ${tree} ${dst} failed (exit ${r.status})`);
  t.markComplete();
  return { dst, ledger };
}
