// `ferry volume plan`: from a source and the layout asked for, the info of the finished volume
// (every scale, sharding chosen so that tasks own whole shards) and one ledger job per task.
// Nothing is written to the destination; the last task to finish writes `info` there.
import { basename } from 'node:path';
import { boxShape, formatBox } from '../../arrays/box.ts';
import type { Box, Vec3 } from '../../arrays/box.ts';
import { bytesPerVoxel } from '../../arrays/voxels.ts';
import { FerryError } from '../../errors.ts';
import { checkTaskSize } from '../../formats/precomputed/grid.ts';
import { buildInfo, downsampledScale, parseInfo } from '../../formats/precomputed/info.ts';
import type { Info, Scale } from '../../formats/precomputed/info.ts';
import type { JobSpec } from '../../ledger/engine.ts';
import { openStore } from '../../storage/open.ts';
import { definedOptions, parseStoreUrl } from '../../storage/spec.ts';
import type { StoreOptions } from '../../storage/spec.ts';
import { checkDestinationInfo } from '../../volume/commit.ts';
import type { IngestTaskParams } from '../../volume/ingest-task.ts';
import { openSource, precomputedShortfall, sourceSpecFor } from '../../volume/source.ts';
import type { PlannedSource, SourceSpec } from '../../volume/source.ts';
import { checkProducerGrid, outside, producerGridBox, trimToData } from '../../volume/producer-grid.ts';
import { checkScalesFit, ingestTasks, shardingForTasks, taskCounts } from '../../volume/task-grid.ts';
import type { IngestTask } from '../../volume/task-grid.ts';

import { INGEST_JOB } from './kinds.ts';

/**
 * Most jobs one plan creates: a million tasks is already a volume of petabytes at the default task
 * size; a size beyond it is a mistake (an info with absurd sizes), and planning it would fill memory.
 */
export const MAX_TASKS = 1_000_000;

export interface VolumePlanInput {
  src: string;
  dst: string;
  /** nm per voxel. */
  voxelSize: Vec3;
  /**
   * Added to a source coordinate to give the volume's (ChunkFlow's `offset`). Default 0: a stack
   * starts at 0, a registry's sections lie where it places them, a precomputed volume where it is.
   */
  offset?: Vec3;
  chunk: Vec3;
  taskSize: Vec3;
  nonzeroThreshold: number;
  encoding: 'raw' | 'png' | 'jpeg';
  jpegQuality?: number;
  /** Scales in all, full resolution included. */
  scales: number;
  factor: Vec3;
  sharded: boolean;
  fillGaps?: boolean;
  store?: StoreOptions;
  /**
   * ChunkFlow's task grid (taskproducer.jl -o, -g, -s; the stride defaults to the task size).
   * Without it the volume is the source's bounds, tiled by the task size from their start.
   */
  grid?: { origin: Vec3; count: Vec3; stride?: Vec3 };
}

export interface VolumePlan {
  source: SourceSpec;
  planned: PlannedSource;
  /** Source coordinate + translation = the volume's voxel coordinate. */
  translation: Vec3;
  /** The part of the source the volume holds (source coordinates). */
  box: Box;
  /** Voxels per task: the task size, or a grid's stride. */
  taskSize: Vec3;
  /** The grid's whole box, when a grid was given (source coordinates). */
  gridBox?: Box;
  info: Info;
  tasks: IngestTask[];
  /** Whether the destination already holds this very info (a finished or re-planned run). */
  destination: 'absent' | 'same';
  contentEncodingGzip: boolean;
  input: VolumePlanInput;
  /** Things that work but that the user probably did not want. */
  warnings: string[];
}

function buildScales(input: VolumePlanInput, type: Info['type'], dataType: Info['data_type'], size: Vec3, offset: Vec3): Info {
  const info = buildInfo({
    type,
    dataType,
    resolution: input.voxelSize,
    size,
    voxelOffset: offset,
    chunkSize: input.chunk,
    encoding: input.encoding,
    jpegQuality: input.encoding === 'jpeg' ? (input.jpegQuality ?? 85) : undefined,
  });
  const scales: Scale[] = [info.scales[0]];
  for (let k = 1; k < input.scales; k++) {
    const next = downsampledScale(scales[k - 1], input.factor);
    // A scale no smaller than the one before adds nothing but jobs and bytes.
    if (next.size.every((n, d) => n === scales[k - 1].size[d])) {
      throw new FerryError(`--scales ${input.scales}: scale ${k + 1} would be ${next.size.join('x')}, no smaller than scale ${k}; this volume has at most ${k} scale(s) with --factor ${input.factor.join(',')}`, {
        hint: `give --scales ${k} or fewer`,
        kind: 'usage',
      });
    }
    scales.push(next);
  }
  if (input.sharded) {
    const counts = taskCounts(scales[0], input.taskSize);
    scales.forEach((s, k) => {
      const taskChunks = [0, 1, 2].map((d) => input.taskSize[d] / input.factor[d] ** k / input.chunk[d]) as Vec3;
      s.sharding = shardingForTasks(s, taskChunks, counts, {
        voxelBytes: bytesPerVoxel(dataType),
        // png and jpeg chunks are compressed already.
        dataEncoding: input.encoding === 'raw' ? 'gzip' : 'raw',
      });
    });
  }
  return parseInfo({ ...info, scales }, 'planned info');
}

/** The source box the volume holds, and the task size: the grid's (trimmed to the data) or the source's bounds. */
function volumeBox(input: VolumePlanInput, bounds: Box, warnings: string[]): { box: Box; taskSize: Vec3; gridBox?: Box } {
  if (!input.grid) return { box: bounds, taskSize: input.taskSize };
  const grid = { ...input.grid, stride: input.grid.stride ?? input.taskSize, cutout: input.taskSize };
  checkProducerGrid(grid);
  // One task per stride: where ChunkFlow's cutouts overlap, Ferry writes each voxel once.
  const taskSize = grid.stride.map((s, d) => (grid.count[d] === 1 ? grid.cutout[d] : s)) as Vec3;
  const gridBox = producerGridBox(grid);
  const box = trimToData(gridBox, taskSize, bounds);
  const left = outside(bounds, gridBox);
  if (left.length > 0) {
    warnings.push(`the task grid covers ${formatBox(gridBox)} of the source but its data reaches ${formatBox(bounds)} (${left.join('; ')}): what lies outside the grid is not ingested; widen --grid or move --origin to take it`);
  }
  return { box, taskSize, gridBox };
}

export async function planVolume(input: VolumePlanInput): Promise<VolumePlan> {
  if (!(input.nonzeroThreshold >= 0 && input.nonzeroThreshold <= 1)) {
    throw new FerryError(`--nonzero-threshold ${input.nonzeroThreshold} is not a fraction`, { hint: 'use a number from 0 (write every chunk) to 1' });
  }
  if (!Number.isInteger(input.scales) || input.scales < 1) throw new FerryError(`--scales ${input.scales} is not a whole number of at least 1`);
  const spec = await sourceSpecFor(input.src, { fillGaps: input.fillGaps, store: input.store });
  if (spec.kind === 'precomputed' && spec.url.replace(/\/?$/, '/') === input.dst.replace(/\/?$/, '/')) {
    throw new FerryError('the source and destination are the same volume', { hint: 'write the new layout to another destination' });
  }
  const shortfall = await precomputedShortfall(spec, input.store);
  const source = await openSource(spec, input.store);
  const translation = input.offset ?? [0, 0, 0];
  const warnings: string[] = [];
  let info: Info;
  let planned: PlannedSource;
  let placed: ReturnType<typeof volumeBox>;
  try {
    planned = { bounds: source.bounds, dataType: source.dataType, missing: source.missing };
    placed = volumeBox(input, source.bounds, warnings);
    const voxelOffset = [0, 1, 2].map((d) => placed.box.start[d] + translation[d]) as Vec3;
    info = buildScales({ ...input, taskSize: placed.taskSize }, source.type, source.dataType, boxShape(placed.box), voxelOffset);
  } finally {
    await source.close();
  }
  const { taskSize } = placed;
  checkTaskSize(info.scales[0], taskSize);
  checkScalesFit(info.scales[0], taskSize, input.factor, input.scales);
  const count = taskCounts(info.scales[0], taskSize).reduce((a, b) => a * b, 1);
  if (count > MAX_TASKS) {
    throw new FerryError(`a volume of ${info.scales[0].size.join('x')} voxels in tasks of ${taskSize.join(',')} is ${count.toExponential(2)} tasks; a plan makes at most ${MAX_TASKS.toLocaleString('en-US')}`, {
      hint: 'check the size the source (or its info) gives, or give --task-size larger tasks',
      kind: 'usage',
    });
  }
  const store = await openStore(input.dst, input.store);
  let destination: VolumePlan['destination'];
  try {
    destination = await checkDestinationInfo(store, info);
  } finally {
    await store.close();
  }
  const tasks = [...ingestTasks(info.scales[0], taskSize, input.factor, input.scales)];
  const contentEncodingGzip = store.capabilities.keepsContentEncoding && input.encoding === 'raw' && !input.sharded;
  if (shortfall) warnings.push(shortfall);
  const s0 = info.scales[0];
  if (s0.sharding && s0.sharding.preshift_bits + s0.sharding.minishard_bits === 0 && tasks.length > 1) {
    warnings.push(
      `each shard of scale ${s0.key} holds one chunk, because a task is one chunk deep or wide: give --task-size more chunks per axis ` +
        '(a power of two), or ingest unsharded first and plan again from that volume with --sharded',
    );
  }
  if (planned.missing.length > 0) warnings.push(`${planned.missing.length} section(s) the registry lists do not exist and are written as zeros (--fill-gaps): z ${planned.missing.slice(0, 10).join(', ')}${planned.missing.length > 10 ? ', ...' : ''}`);
  return { source: spec, planned, translation, box: placed.box, taskSize, gridBox: placed.gridBox, info, tasks, destination, contentEncodingGzip, input, warnings };
}

export function ingestJobs(plan: VolumePlan): JobSpec[] {
  return plan.tasks.map((task) => {
    const params: IngestTaskParams = {
      source: plan.source,
      planned: plan.planned,
      translation: plan.translation,
      dst: plan.input.dst,
      store: definedOptions(plan.input.store),
      info: plan.info,
      factor: plan.input.factor,
      taskCount: plan.tasks.length,
      nonzeroThreshold: plan.input.nonzeroThreshold,
      contentEncodingGzip: plan.contentEncodingGzip,
      task,
    };
    return { kind: INGEST_JOB, key: task.key, params };
  });
}

export function defaultRunName(dst: string): string {
  const parsed = parseStoreUrl(dst);
  const name = basename(parsed.path.replace(/\/+$/, '')) || parsed.bucket;
  return `volume-${name}`;
}
