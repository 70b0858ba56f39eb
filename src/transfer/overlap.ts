// A copy whose source and destination overlap destroys data: `sync --delete t/inner t` lists the
// source inside the destination as extras and deletes it; `sync t t/copy` copies the destination
// into itself without end. Both are refused before anything is listed, with symbolic links
// resolved (`sync --delete link-to-inner t` is the same mistake).
import { realpath } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { FerryError } from '../errors.ts';
import { localPathOf } from '../storage/spec.ts';
import type { Store } from '../storage/store.ts';

/** Throws a usage error when `dst` is `src`, inside it, or holds it. */
export async function refuseOverlap(src: Store, dst: Store): Promise<void> {
  const [a, b] = await Promise.all([where(src), where(dst)]);
  if (a === b) throw overlap(`the source and the destination are the same folder (${a})`);
  if (b.startsWith(a)) throw overlap(`the destination ${b} is inside the source ${a}`);
  if (a.startsWith(b)) throw overlap(`the source ${a} is inside the destination ${b}: a sync there would treat it as the destination's own files`);
}

/** Throws a usage error when the single file `src`+`key` and `dst`+`dkey` are the same file. */
export async function refuseSameFile(src: Store, key: string, dst: Store, dkey: string): Promise<void> {
  const [a, b] = await Promise.all([where(src, key), where(dst, dkey)]);
  if (a === b) throw overlap(`the source and the destination are the same file (${a})`);
}

/** A store's location, or a key's, with symbolic links resolved for a folder of this machine; ends with '/' for a store. */
async function where(store: Store, key?: string): Promise<string> {
  const local = localPathOf(store.url);
  if (local === undefined) return key === undefined ? store.url : store.url + key;
  const real = await resolveExisting(key === undefined ? local : join(local, key));
  return key === undefined ? real.replace(/\/?$/, sep) : real;
}

/** `path` with links resolved in the part of it that exists; what does not exist yet is appended as written. */
async function resolveExisting(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(await resolveExisting(parent), basename(path));
  }
}

function overlap(what: string): FerryError {
  return new FerryError(what, { hint: 'choose a source and a destination that do not hold each other', kind: 'usage' });
}
