// Turns the SRC and DST a user typed into two stores and, for a single file, the key to copy and
// the name to give it: `ferry cp a.dat s3://b/raw/` and `ferry cp a.dat /archive/b.dat` both work,
// as they do with cp and aws s3 cp.
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { FerryError } from '../errors.ts';
import { openStore } from '../storage/open.ts';
import type { StoreContext } from '../storage/open.ts';
import { localPathOf, parseStoreUrl } from '../storage/spec.ts';
import type { StoreOptions } from '../storage/spec.ts';
import type { Store } from '../storage/store.ts';

export interface Endpoints {
  src: Store;
  dst: Store;
  /** Set for a single-file copy. */
  onlyKeys?: string[];
  renameKey?: (key: string) => string;
}

export async function openEndpoints(srcUrl: string, dstUrl: string, opts: StoreOptions, context: StoreContext = {}): Promise<Endpoints> {
  const single = await singleFile(srcUrl, opts);
  if (!single) {
    // Overlapping trees are refused by transfer() itself, whoever calls it (see overlap.ts).
    return { src: await openStore(srcUrl, opts), dst: await openStore(dstUrl, opts, context) };
  }
  const { parent, name } = single;
  if (await isFolderTarget(dstUrl)) {
    return { src: parent, dst: await openStore(dstUrl, opts, context), onlyKeys: [name] };
  }
  const target = splitLast(dstUrl);
  return { src: parent, dst: await openStore(target.parent, opts, context), onlyKeys: [name], renameKey: () => target.name };
}

async function singleFile(url: string, opts: StoreOptions): Promise<{ parent: Store; name: string } | undefined> {
  if (url.endsWith('/')) return undefined;
  const local = localPathOf(url);
  if (local !== undefined) {
    const s = await stat(local).catch(() => undefined);
    if (!s) throw new FerryError(`source ${url} does not exist`, { hint: 'check the path' });
    if (!s.isFile()) return undefined;
    return { parent: await openStore(dirname(resolve(local)), opts), name: basename(local) };
  }
  if (isBucketRoot(url)) return undefined;
  const { parent, name } = splitLast(url);
  const store = await openStore(parent, opts);
  if (await store.stat(name)) return { parent: store, name };
  await store.close();
  return undefined;
}

async function isFolderTarget(url: string): Promise<boolean> {
  if (url.endsWith('/')) return true;
  const local = localPathOf(url);
  if (local === undefined) return isBucketRoot(url);
  const s = await stat(local).catch(() => undefined);
  return Boolean(s?.isDirectory());
}

/** An object store URL with no key prefix: a whole bucket (or memory://), which holds keys and is never one. */
function isBucketRoot(url: string): boolean {
  return parseStoreUrl(url).path === '';
}

function splitLast(url: string): { parent: string; name: string } {
  const trimmed = url.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  if (i < 0) return { parent: '.', name: trimmed };
  return { parent: trimmed.slice(0, i + 1), name: trimmed.slice(i + 1) };
}
