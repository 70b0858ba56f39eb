// Files and folders named the way users name them: a local path or a store URL (file://, s3://,
// gs://). A file is its folder's store plus its key there, so the many files of one folder share
// one store, and every message names a file as the user wrote it.
import { basename, dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FerryError } from '../errors.ts';
import { openStore } from './open.ts';
import { parseStoreUrl } from './spec.ts';
import type { StoreOptions } from './spec.ts';
import type { Store } from './store.ts';

/** A file: the store of its folder, its key there, and its name for messages (path or URL). */
export interface StoreFile<S = Store> {
  store: S;
  key: string;
  name: string;
}

/** A folder: its store and its name for messages (path or URL). */
export interface StoreFolder<S = Store> {
  store: S;
  name: string;
}

const isUrl = (location: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(location);

/** A local path made absolute; a URL as it is. */
export function absoluteLocation(location: string): string {
  return isUrl(location) ? location : resolve(location);
}

/** `a/b/c.dat` -> `a/b` and `c.dat`; `s3://bkt/p/c.dat` -> `s3://bkt/p/` and `c.dat`. */
export function splitLocation(location: string): { folder: string; name: string } {
  if (!isUrl(location)) return { folder: dirname(location), name: basename(location) };
  const trimmed = location.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  if (parseStoreUrl(location).path === '' || slash < trimmed.indexOf('://') + 3) {
    throw new FerryError(`${location} names a bucket, not a file in it`, { hint: 'add the key of the file, e.g. s3://BUCKET/folder/name' });
  }
  return { folder: trimmed.slice(0, slash + 1), name: trimmed.slice(slash + 1) };
}

/** The location of `name` in `folder`: paths joined as paths, a URL with one '/' between. */
export function joinLocation(folder: string, name: string): string {
  return isUrl(folder) ? folder.replace(/\/?$/, '/') + name : join(folder, name);
}

/**
 * `ref` (a line of a list file: a path or URL) taken relative to the folder `base`, as a path
 * in a list is taken relative to the list's own folder. A URL stays as it is; on an object store
 * a leading '/' starts from the bucket.
 */
export function resolveLocation(base: string, ref: string): string {
  if (isUrl(ref)) return ref;
  if (!isUrl(base)) return resolve(base, ref);
  const root = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(base)![0];
  return root + posix.normalize(ref.startsWith('/') ? ref : `${base.slice(root.length)}/${ref}`);
}

/**
 * The local file behind `key` when the store is a local folder, for libraries that open files
 * themselves and read only what they need (libvips seeking in a large TIFF); undefined for an
 * object store, whose bytes come through the Store.
 */
export function localPath(store: Pick<Store, 'url' | 'capabilities'>, key: string): string | undefined {
  if (!store.capabilities.local) return undefined;
  return join(fileURLToPath(store.url), ...key.split('/'));
}

/**
 * Writes one local file through its folder's store, so through the one atomic writer (temporary
 * file, fsync, rename; create-only with `ifAbsent`). False when `ifAbsent` found a file there.
 */
export async function writeLocalFile(path: string, data: string | Uint8Array, opts: { ifAbsent?: boolean } = {}): Promise<boolean> {
  const folder = await openStore(dirname(resolve(path)));
  try {
    const r = await folder.write(basename(path), Buffer.from(data), { ifAbsent: opts.ifAbsent });
    return !r.existed;
  } finally {
    await folder.close();
  }
}

/** Opens each folder's store once, for callers that read or write many files. */
export class FolderStores {
  private readonly opts: StoreOptions;
  private readonly open = new Map<string, Promise<Store>>();

  constructor(opts: StoreOptions = {}) {
    this.opts = opts;
  }

  async folder(location: string): Promise<StoreFolder> {
    const root = isUrl(location) ? location.replace(/\/?$/, '/') : resolve(location);
    let store = this.open.get(root);
    if (!store) {
      store = openStore(root, this.opts);
      this.open.set(root, store);
      // A store that failed to open is not kept: the next call tries again and says why.
      store.catch(() => this.open.delete(root));
    }
    return { store: await store, name: location };
  }

  async file(location: string): Promise<StoreFile> {
    if (location.endsWith('/')) throw new FerryError(`${location} names a folder, not a file`, { hint: 'give the path or URL of a file' });
    const { folder, name } = splitLocation(location);
    return { store: (await this.folder(folder)).store, key: name, name: location };
  }

  async close(): Promise<void> {
    const stores = await Promise.allSettled(this.open.values());
    this.open.clear();
    for (const s of stores) if (s.status === 'fulfilled') await s.value.close();
  }
}
