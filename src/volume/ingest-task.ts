// One ingest task: read its full-resolution box once, make its coarser scales from that read,
// write the box it owns in every scale (whole chunks, or whole shards), record what it wrote and
// skipped, and write `info` if it is the last task of the plan to finish. Running it again
// rewrites the same objects with the same bytes.
import { FerryError } from '../errors.ts';
import { copyRegion } from '../formats/precomputed/block.ts';
import { allocateVoxels } from '../formats/precomputed/dtype.ts';
import type { VoxelArray } from '../formats/precomputed/dtype.ts';
import { boxVoxels } from '../formats/precomputed/grid.ts';
import type { Box, Vec3 } from '../formats/precomputed/grid.ts';
import type { Info } from '../formats/precomputed/info.ts';
import { writeBlock } from '../formats/precomputed/writer.ts';
import { openStore } from '../storage/open.ts';
import type { StoreOptions } from '../storage/open.ts';
import { checkDestinationInfo, recordTaskAndCommit } from './commit.ts';
import { downsample } from './downsample.ts';
import { openSource } from './source.ts';
import type { SourceSpec, VolumeSource } from './source.ts';
import type { IngestTask } from './task-grid.ts';

export interface IngestTaskParams {
  source: SourceSpec;
  dst: string;
  store?: StoreOptions;
  /** The whole planned info, every scale; written last. */
  info: Info;
  factor: Vec3;
  taskCount: number;
  nonzeroThreshold: number;
  /** Unsharded raw chunks gzipped under Content-Encoding (object stores only). */
  contentEncodingGzip: boolean;
  gzipLevel?: number;
  task: IngestTask;
}

export interface IngestTaskResult {
  task: string;
  written: number;
  bytes: number;
  skipped: number;
  committed: boolean;
  tasksDone: number;
}

export interface IngestHooks {
  /** Called after each scale is written, with chunks (or shards) done so far. */
  progress?(scalesDone: number, scales: number): void;
  signal?: AbortSignal;
}

/** Checks the source still is what the plan saw: same size and type. */
function checkSource(source: VolumeSource, info: Info): void {
  const s0 = info.scales[0];
  if (source.dataType !== info.data_type || source.size.some((v, d) => v !== s0.size[d])) {
    throw new FerryError(`the source is now ${source.size.join('x')} ${source.dataType}; the plan was made for ${s0.size.join('x')} ${info.data_type}`, {
      hint: 'the sections changed since planning: plan again into a new destination',
    });
  }
}

/** The part `box` of `data` (which holds `from`). */
function crop(data: VoxelArray, from: Box, box: Box, info: Info): VoxelArray {
  if (from.start.every((v, d) => v === box.start[d]) && from.end.every((v, d) => v === box.end[d])) return data;
  const out = allocateVoxels(info.data_type, boxVoxels(box));
  copyRegion(data, from, out, box, box);
  return out;
}

export async function runIngestTask(p: IngestTaskParams, hooks: IngestHooks = {}): Promise<IngestTaskResult> {
  const { info, task } = p;
  const source = await openSource(p.source, p.store, { size: info.scales[0].size, dataType: info.data_type });
  const store = await openStore(p.dst, p.store);
  try {
    checkSource(source, info);
    await checkDestinationInfo(store, info);
    const off = info.scales[0].voxel_offset;
    const read = task.read;
    const data = await source.read({
      start: [read.start[0] - off[0], read.start[1] - off[1], read.start[2] - off[2]],
      end: [read.end[0] - off[0], read.end[1] - off[1], read.end[2] - off[2]],
    });
    hooks.signal?.throwIfAborted();
    const levels = task.boxes.length - 1;
    const pyramid = [{ box: read, data }];
    if (levels > 0) {
      pyramid.push(...downsample({ data, box: read, factor: p.factor, levels, method: info.type === 'segmentation' ? 'mode' : 'average' }));
    }
    let written = 0;
    let bytes = 0;
    const skipped: string[] = [];
    for (let k = 0; k <= levels; k++) {
      hooks.signal?.throwIfAborted();
      const box = task.boxes[k];
      const r = await writeBlock(store, info, info.scales[k].key, box, crop(pyramid[k].data, pyramid[k].box, box, info), {
        contentEncodingGzip: p.contentEncodingGzip,
        nonzeroThreshold: p.nonzeroThreshold,
        gzipLevel: p.gzipLevel,
        concurrency: 16,
      });
      written += r.written.length;
      bytes += r.written.reduce((s, w) => s + w.size, 0);
      skipped.push(...r.skipped);
      pyramid[k].data = new Uint8Array(0); // let the finer level go before the next one is cropped
      hooks.progress?.(k + 1, levels + 1);
    }
    const { committed, done } = await recordTaskAndCommit(store, info, p.taskCount, { task: task.key, written, bytes, skipped });
    return { task: task.key, written, bytes, skipped: skipped.length, committed, tasksDone: done };
  } finally {
    await Promise.all([source.close(), store.close()]);
  }
}
