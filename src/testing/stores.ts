// For tests over any Store: a memory store of their own that notes what was written and in what
// order (what a format must write, and must not write, is behaviour), and a store's keys.
import { openMemoryStore } from '../storage/memory.ts';
import type { Store, WriteOptions } from '../storage/store.ts';

export interface RecordedWrite {
  key: string;
  opts: WriteOptions;
}

export type RecordingStore = Store & { readonly writes: RecordedWrite[] };

let opened = 0;

/** An empty memory:// store under a prefix of its own, noting every write. */
export function testMemoryStore(): RecordingStore {
  return recordWrites(openMemoryStore(`test-${++opened}/`));
}

/** `store`, noting the key and options of every write in the order they were asked for. */
export function recordWrites(store: Store): RecordingStore {
  const writes: RecordedWrite[] = [];
  return {
    url: store.url,
    capabilities: store.capabilities,
    writes,
    write: (key, body, opts = {}) => {
      writes.push({ key, opts });
      return store.write(key, body, opts);
    },
    list: (prefix, opts) => store.list(prefix, opts),
    stat: (key) => store.stat(key),
    read: (key, range) => store.read(key, range),
    readBytes: (key, range) => store.readBytes(key, range),
    readIfExists: (key, range) => store.readIfExists(key, range),
    openRange: (key, size) => store.openRange(key, size),
    delete: (key) => store.delete(key),
    checksum: (key) => store.checksum(key),
    close: () => store.close(),
  };
}

/** Every key under `prefix`, sorted. */
export async function keysOf(store: Store, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys.sort();
}
