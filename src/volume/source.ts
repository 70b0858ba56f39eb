// What an ingest reads from: a stack of sections (folder or registry file) or an existing
// precomputed volume (to re-chunk, shard, or copy with scales), each in a folder or on an object
// store. Each reads boxes in its own coordinates (a registry's aligned space, a volume's voxels);
// the plan's translation into the written volume is applied only on the writing side.
import { formatBox } from '../arrays/box.ts';
import type { Box } from '../arrays/box.ts';
import type { DataType, VoxelArray } from '../arrays/voxels.ts';
import { FerryError } from '../errors.ts';
import { readBox, readInfo } from '../formats/precomputed/reader.ts';
import { scaleBox } from '../formats/precomputed/grid.ts';
import { FolderStores, absoluteLocation, joinLocation } from '../storage/location.ts';
import { openStore } from '../storage/open.ts';
import type { StoreOptions } from '../storage/spec.ts';
import { listSectionFolder, listSectionRegistry, plannedStack, probeStack, readSections } from './sections.ts';
import type { SectionStack } from './sections.ts';

export type SourceSpec =
  | { kind: 'sections'; folder: string; fillGaps?: boolean }
  | { kind: 'registry'; file: string; fillGaps?: boolean }
  | { kind: 'precomputed'; url: string; scale?: string };

export interface VolumeSource {
  readonly spec: SourceSpec;
  readonly type: 'image' | 'segmentation';
  readonly dataType: DataType;
  /**
   * Where the source's voxels are, in its own coordinates: a stack's x and y (a registry's aligned
   * space, the union of its sections) and z from 0 for its first section; a precomputed volume's
   * voxel coordinates.
   */
  readonly bounds: Box;
  /** z of listed sections whose files are missing, read as zeros (--fill-gaps). */
  readonly missing: number[];
  /**
   * Voxels of `box` (source coordinates; zeros outside the data), x fastest: in `into` (a reused
   * buffer of the box's size) when the source can fill it, else in a new array.
   */
  read(box: Box, into?: VoxelArray): Promise<VoxelArray>;
  close(): Promise<void>;
}

/** A folder holding this file is a registry (BigArrays.jl's AlignedBigArray reads `<dir>/registry.txt`, src/backends/aligned.jl at 1b9126d). */
const REGISTRY_IN_FOLDER = 'registry.txt';

/** Tells a section folder, a registry file and a precomputed volume apart by what is there. */
export async function sourceSpecFor(src: string, opts: { fillGaps?: boolean; store?: StoreOptions } = {}): Promise<SourceSpec> {
  const stores = new FolderStores(opts.store);
  const fillGaps = opts.fillGaps;
  try {
    // A bucket's root, or a URL Ferry cannot open, is no file; opening it as a folder says why.
    const file = await stores.file(src).catch(() => undefined);
    if (file && (await file.store.stat(file.key))) return { kind: 'registry', file: absoluteLocation(src), fillGaps };
    const folder = await stores.folder(src);
    if (await folder.store.stat('info')) return { kind: 'precomputed', url: src };
    if (await folder.store.stat(REGISTRY_IN_FOLDER)) return { kind: 'registry', file: joinLocation(absoluteLocation(src), REGISTRY_IN_FOLDER), fillGaps };
    for await (const _ of folder.store.list('', { delimiter: true })) return { kind: 'sections', folder: absoluteLocation(src), fillGaps };
    throw new FerryError(`source ${src} does not exist or is empty`, { hint: 'give a folder of sections, a registry file or a precomputed volume' });
  } finally {
    await stores.close();
  }
}

/** What the plan saw; a task passes it, so that it need not read every section's header again, and so that a changed source fails. */
export interface PlannedSource {
  bounds: Box;
  dataType: DataType;
  missing: number[];
}

function checkPlanned(source: VolumeSource, planned: PlannedSource | undefined): VolumeSource {
  if (!planned) return source;
  const same = (a: Box, b: Box) => [0, 1, 2].every((d) => a.start[d] === b.start[d] && a.end[d] === b.end[d]);
  if (source.dataType !== planned.dataType || !same(source.bounds, planned.bounds)) {
    throw new FerryError(`the source is now ${formatBox(source.bounds)} ${source.dataType}; the plan was made for ${formatBox(planned.bounds)} ${planned.dataType}`, {
      hint: 'the source changed since planning: plan again into a new destination',
    });
  }
  return source;
}

export async function openSource(spec: SourceSpec, storeOptions: StoreOptions = {}, planned?: PlannedSource): Promise<VolumeSource> {
  if (spec.kind === 'precomputed') {
    const source = await openPrecomputedSource(spec, storeOptions);
    try {
      return checkPlanned(source, planned);
    } catch (e) {
      await source.close();
      throw e;
    }
  }
  const stores = new FolderStores(storeOptions);
  try {
    const entries =
      spec.kind === 'sections'
        ? await listSectionFolder(await stores.folder(spec.folder), { fillGaps: spec.fillGaps })
        : await listSectionRegistry(await stores.file(spec.file), stores);
    if (!planned) return sectionSource(spec, await probeStack(entries, { fillGaps: spec.fillGaps }), stores);
    if (entries.length !== planned.bounds.end[2] || (planned.dataType !== 'uint8' && planned.dataType !== 'uint16')) {
      throw new FerryError(`the source now has ${entries.length} sections; the plan was made for ${planned.bounds.end[2]}`, {
        hint: 'the sections changed since planning: plan again into a new destination',
      });
    }
    // Each section read is checked against this header (readSections), so a changed file still fails.
    return checkPlanned(sectionSource(spec, plannedStack(entries, { ...planned, dataType: planned.dataType }), stores), planned);
  } catch (e) {
    await stores.close();
    throw e;
  }
}

function sectionSource(spec: SourceSpec, stack: SectionStack, stores: FolderStores): VolumeSource {
  return {
    spec,
    type: 'image',
    dataType: stack.dataType,
    bounds: stack.bounds,
    missing: stack.missing,
    read: (box, into) => readSections(stack, box, into),
    close: () => stores.close(),
  };
}

/** `x0-x1_y0-y1_z0-z1`: an unsharded chunk's name. */
const CHUNK_NAME = /^(-?\d+)-(-?\d+)_(-?\d+)-(-?\d+)_(-?\d+)-(-?\d+)$/;

/**
 * What a precomputed source's chunks leave out of what its info promises, as a warning: a scale
 * with no chunk at all, or (unsharded) chunks that stop short of its size; the rest would be
 * ingested as zeros. Listing more than `limit` keys is not worth it at plan time: then nothing is said.
 */
export async function precomputedShortfall(spec: SourceSpec, storeOptions: StoreOptions = {}, limit = 100_000): Promise<string | undefined> {
  if (spec.kind !== 'precomputed') return undefined;
  const store = await openStore(spec.url, storeOptions);
  try {
    const info = await readInfo(store);
    const scale = spec.scale ? info.scales.find((s) => s.key === spec.scale) : info.scales[0];
    if (!scale) return undefined;
    const want = [0, 1, 2].map((d) => scale.voxel_offset[d] + scale.size[d]);
    const end = [-Infinity, -Infinity, -Infinity];
    let keys = 0;
    for await (const o of store.list(`${scale.key}/`)) {
      if (++keys > limit) return undefined;
      const m = CHUNK_NAME.exec(o.key.slice(scale.key.length + 1));
      if (m) [2, 4, 6].forEach((g, d) => (end[d] = Math.max(end[d], Number(m[g]))));
    }
    if (keys === 0) return `${spec.url} has no chunk of scale ${scale.key} at all: every voxel of it would be ingested as zero`;
    if (scale.sharding || end[0] === -Infinity || end.every((e, d) => e >= want[d])) return undefined;
    return `the chunks of ${spec.url} scale ${scale.key} end at ${end.join(',')}, but its info says the volume ends at ${want.join(',')}: the rest would be ingested as zeros`;
  } finally {
    await store.close();
  }
}

async function openPrecomputedSource(spec: Extract<SourceSpec, { kind: 'precomputed' }>, storeOptions: StoreOptions): Promise<VolumeSource> {
  const store = await openStore(spec.url, storeOptions);
  try {
    const info = await readInfo(store);
    const scale = spec.scale ? info.scales.find((s) => s.key === spec.scale) : info.scales[0];
    if (!scale) throw new FerryError(`no scale ${spec.scale} in ${spec.url}`, { hint: `scales are ${info.scales.map((s) => s.key).join(', ')}` });
    if (info.num_channels !== 1) throw new FerryError(`${spec.url} has ${info.num_channels} channels; Ferry ingests one`, { hint: 'use a single-channel volume' });
    return {
      spec,
      type: info.type,
      dataType: info.data_type,
      bounds: scaleBox(scale),
      missing: [],
      read: (box) => readBox(store, info, scale.key, box),
      close: () => store.close(),
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
