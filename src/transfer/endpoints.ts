// Turns the SRC and DST a user typed into two stores and, for a single file, the key to copy and
// the name to give it: `ferry cp a.dat s3://b/raw/` and `ferry cp a.dat /archive/b.dat` both work,
// as they do with cp and aws s3 cp.
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve, sep } from 'node:path';
import { FerryError } from '../errors.ts';
import { openStore, parseStoreUrl } from '../storage/open.ts';
import type { StoreOptions } from '../storage/open.ts';
import type { Store } from '../storage/store.ts';

export interface Endpoints {
  src: Store;
  dst: Store;
  /** Set for a single-file copy. */
  onlyKeys?: string[];
  renameKey?: (key: string) => string;
}

export async function openEndpoints(srcUrl: string, dstUrl: string, opts: StoreOptions): Promise<Endpoints> {
  const single = await singleFile(srcUrl, opts);
  if (!single) {
    refuseOverlap(srcUrl, dstUrl);
    return { src: await openStore(srcUrl, opts), dst: await openStore(dstUrl, opts) };
  }
  const { parent, name } = single;
  if (await isFolderTarget(dstUrl)) {
    return { src: parent, dst: await openStore(dstUrl, opts), onlyKeys: [name] };
  }
  const target = splitLast(dstUrl);
  return { src: parent, dst: await openStore(target.parent, opts), onlyKeys: [name], renameKey: () => target.name };
}

async function singleFile(url: string, opts: StoreOptions): Promise<{ parent: Store; name: string } | undefined> {
  if (url.endsWith('/')) return undefined;
  const parsed = parseStoreUrl(url);
  if (parsed.scheme === 'file') {
    const s = await stat(parsed.path).catch(() => undefined);
    if (!s) throw new FerryError(`source ${url} does not exist`, { hint: 'check the path' });
    if (!s.isFile()) return undefined;
    return { parent: await openStore(dirname(resolve(parsed.path)), opts), name: basename(parsed.path) };
  }
  if (parsed.path === '') return undefined;
  const { parent, name } = splitLast(url);
  const store = await openStore(parent, opts);
  if (await store.stat(name)) return { parent: store, name };
  await store.close();
  return undefined;
}

async function isFolderTarget(url: string): Promise<boolean> {
  if (url.endsWith('/')) return true;
  const parsed = parseStoreUrl(url);
  if (parsed.scheme !== 'file') return parsed.path === '';
  const s = await stat(parsed.path).catch(() => undefined);
  return Boolean(s?.isDirectory());
}

function splitLast(url: string): { parent: string; name: string } {
  const trimmed = url.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  if (i < 0) return { parent: '.', name: trimmed };
  return { parent: trimmed.slice(0, i + 1), name: trimmed.slice(i + 1) };
}

/** A destination inside the source would be listed and copied into itself, without end. */
function refuseOverlap(srcUrl: string, dstUrl: string): void {
  const a = parseStoreUrl(srcUrl);
  const b = parseStoreUrl(dstUrl);
  if (a.scheme !== b.scheme || a.bucket !== b.bucket) return;
  const norm = (p: string) => (a.scheme === 'file' ? resolve(p) + sep : p);
  const s = norm(a.path);
  const d = norm(b.path);
  if (d.startsWith(s)) {
    throw new FerryError(`the destination ${dstUrl} is inside the source ${srcUrl}`, {
      hint: 'choose a destination outside the source tree',
    });
  }
}
