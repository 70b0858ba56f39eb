// The few Store methods a precomputed volume needs, and reading a key that may be missing: a
// missing chunk or shard is all zeros in this format, so absence is an answer, not an error.
import type { ByteRange, Store } from '../../storage/store.ts';

export type VolumeStore = Pick<Store, 'url' | 'stat' | 'readBytes' | 'write'>;

/**
 * The bytes of `key` (or a range of them), or undefined when the key does not exist. Drivers
 * differ in what they throw for a missing key, so a failed read is settled by a stat.
 */
export async function readOptional(store: VolumeStore, key: string, range?: ByteRange): Promise<Buffer | undefined> {
  try {
    return await store.readBytes(key, range);
  } catch (e) {
    if ((await store.stat(key)) === undefined) return undefined;
    throw e;
  }
}
