// Writes a block of voxels into one scale of a precomputed volume: each whole chunk as its own
// object (unsharded) or each whole shard as one file (sharded). Chunks below the non-zero
// threshold are not written at all, and reported. The info is written separately, and last.
import { boxVoxels, formatBox } from '../../arrays/box.ts';
import type { Box } from '../../arrays/box.ts';
import type { VoxelArray } from '../../arrays/voxels.ts';
import { FerryError } from '../../errors.ts';
import { openBlockWriter } from './block-writer.ts';
import type { WriteBlockOptions, WriteBlockResult } from './block-writer.ts';
import { serializeInfo } from './info.ts';
import type { Info } from './info.ts';
import type { VolumeStore } from './store.ts';

export { openBlockWriter } from './block-writer.ts';
export type { BlockWriter, WriteBlockOptions, WriteBlockResult } from './block-writer.ts';

/** Writes the info file, uncached so viewers see the finished volume as soon as it is complete. */
export async function writeInfo(store: VolumeStore, info: Info): Promise<void> {
  await store.write('info', serializeInfo(info), { contentType: 'application/json', cacheControl: 'no-cache' });
}

/**
 * Writes `data` (the voxels of `box` in scale `scaleKey`, x fastest, channel slowest) as whole
 * chunks, or as whole shards for a sharded scale. Re-running with the same data rewrites the
 * same objects with the same bytes, so a task that crashed half-way is finished by a re-run.
 * A block that arrives a slab at a time goes through openBlockWriter instead.
 */
export async function writeBlock(
  store: VolumeStore,
  info: Info,
  scaleKey: string,
  box: Box,
  data: VoxelArray,
  opts: WriteBlockOptions = {},
): Promise<WriteBlockResult> {
  if (data.length !== boxVoxels(box) * info.num_channels) {
    throw new FerryError(`block ${formatBox(box)} needs ${boxVoxels(box) * info.num_channels} voxels, got ${data.length}`);
  }
  const writer = openBlockWriter(store, info, scaleKey, box, opts);
  try {
    await writer.add(box, data, box);
  } catch (e) {
    await writer.abort();
    throw e;
  }
  return writer.finish();
}
