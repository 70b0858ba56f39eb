// One ingest task: read its full-resolution box once, a z-slab at a time, make its coarser
// scales from each slab, write the box it owns in every scale (whole chunks, or whole shards
// once all their chunks are in), record what it wrote and skipped, and write `info` if it is
// the last task of the plan to finish. Running it again rewrites the same objects, same bytes.
import { boxVoxels } from '../arrays/box.ts';
import type { Box, Vec3 } from '../arrays/box.ts';
import { bytesPerVoxel, voxelsFromBytes } from '../arrays/voxels.ts';
import type { VoxelArray } from '../arrays/voxels.ts';
import { takeBuffer } from '../formats/precomputed/buffer-pool.ts';
import type { Info } from '../formats/precomputed/info.ts';
import { openBlockWriter } from '../formats/precomputed/writer.ts';
import { openStore } from '../storage/open.ts';
import type { StoreOptions } from '../storage/spec.ts';
import { checkDestinationInfo, recordTaskAndCommit } from './commit.ts';
import { downsampleAsync, downsampleBoxes } from './downsample.ts';
import { accountExternalMemoryGlobally } from './gc-accounting.ts';
import { taskSlabs } from './slabs.ts';
import type { Slab } from './slabs.ts';
import { openSource } from './source.ts';
import type { PlannedSource, SourceSpec } from './source.ts';
import type { IngestTask } from './task-grid.ts';

export interface IngestTaskParams {
  source: SourceSpec;
  /** What the plan saw of the source; a source that no longer matches fails the task. */
  planned: PlannedSource;
  /** Added to a source coordinate to give the volume's voxel coordinate (ChunkFlow's `offset`). */
  translation: Vec3;
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
  /** Called with the slabs done so far (0 at the start): every scale of a slab is then encoded. */
  progress?(slabsDone: number, slabs: number): void;
  signal?: AbortSignal;
}

interface HeldSlab {
  voxels: VoxelArray;
  release(): void;
}

export async function runIngestTask(p: IngestTaskParams, hooks: IngestHooks = {}): Promise<IngestTaskResult> {
  accountExternalMemoryGlobally();
  const { info, task } = p;
  const source = await openSource(p.source, p.store, p.planned);
  const store = await openStore(p.dst, p.store);
  try {
    await checkDestinationInfo(store, info);
    const levels = task.boxes.length - 1;
    const slabs = taskSlabs(task, info.scales, p.factor);
    const writers = task.boxes.map((box, k) =>
      openBlockWriter(store, info, info.scales[k].key, box, {
        contentEncodingGzip: p.contentEncodingGzip,
        nonzeroThreshold: p.nonzeroThreshold,
        gzipLevel: p.gzipLevel,
        concurrency: 32,
      }),
    );
    hooks.progress?.(0, slabs.length);
    const t = p.translation;
    const sourceBox = (b: Box): Box => ({
      start: [b.start[0] - t[0], b.start[1] - t[1], b.start[2] - t[2]],
      end: [b.end[0] - t[0], b.end[1] - t[1], b.end[2] - t[2]],
    });
    // Slabs are read into reused buffers: a fresh one per slab costs page faults and GC.
    const read = async (slab: Slab): Promise<HeldSlab> => {
      const buffer = takeBuffer(boxVoxels(slab.read) * bytesPerVoxel(info.data_type));
      try {
        const into = voxelsFromBytes(info.data_type, buffer.bytes);
        const data = await source.read(sourceBox(slab.read), into);
        // A source that cannot fill the buffer hands back its own array.
        if (data !== into) buffer.release();
        return { voxels: data, release: buffer.release };
      } catch (e) {
        buffer.release();
        throw e;
      }
    };
    // Level 0 is cut and compressed while the coarser levels are computed from the same slab
    // (into reused buffers); then they are cut and compressed in turn.
    const writeWithScales = async (slab: Slab, data: VoxelArray) => {
      const outputs = downsampleBoxes(slab.read, p.factor, levels).map((b) => takeBuffer(boxVoxels(b) * bytesPerVoxel(info.data_type)));
      try {
        const into = outputs.map((o) => voxelsFromBytes(info.data_type, o.bytes));
        const method = info.type === 'segmentation' ? 'mode' : 'average';
        // Both run to their end before anything is let go: the downsampling writes into `outputs`.
        const [made, added] = await Promise.allSettled([
          downsampleAsync({ data, box: slab.read, factor: p.factor, levels, method }, { into }),
          writers[0].add(slab.read, data, slab.regions[0]),
        ]);
        if (made.status === 'rejected') throw made.reason;
        if (added.status === 'rejected') throw added.reason;
        for (let k = 1; k <= levels; k++) await writers[k].add(made.value[k - 1].box, made.value[k - 1].data, slab.regions[k]);
      } finally {
        for (const o of outputs) o.release();
      }
    };
    let next: Promise<HeldSlab> | undefined = read(slabs[0]);
    try {
      for (let j = 0; j < slabs.length; j++) {
        const slab = slabs[j];
        const held = await next!;
        next = undefined;
        try {
          hooks.signal?.throwIfAborted();
          // The next slab decodes while this one is cut and compressed: both keep the pool busy.
          if (j + 1 < slabs.length) {
            next = read(slabs[j + 1]);
            next.catch(() => {}); // awaited in its turn, or settled below on failure
          }
          if (levels === 0) await writers[0].add(slab.read, held.voxels, slab.regions[0]);
          else await writeWithScales(slab, held.voxels);
        } finally {
          held.release();
        }
        hooks.progress?.(j + 1, slabs.length);
      }
    } catch (e) {
      await Promise.allSettled([next?.then((b) => b.release()), ...writers.map((w) => w.abort())]);
      throw e;
    }
    let written = 0;
    let bytes = 0;
    const skipped: string[] = [];
    for (const w of writers) {
      const r = await w.finish();
      written += r.written.length;
      bytes += r.written.reduce((s, x) => s + x.size, 0);
      skipped.push(...r.skipped);
    }
    const { committed, done } = await recordTaskAndCommit(store, info, p.taskCount, { task: task.key, written, bytes, skipped });
    return { task: task.key, written, bytes, skipped: skipped.length, committed, tasksDone: done };
  } finally {
    await Promise.all([source.close(), store.close()]);
  }
}
