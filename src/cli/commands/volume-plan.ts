// The action of `ferry volume plan` (see volume.ts): merges a task file with the flags, hands the
// plan to the volume recipe, and prints the scales and the tasks planned.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { boxShape, formatBox } from '../../arrays/box.ts';
import type { Box, Vec3 } from '../../arrays/box.ts';
import { FerryError } from '../../errors.ts';
import { scaleKey } from '../../formats/precomputed/info.ts';
import type { Info } from '../../formats/precomputed/info.ts';
import type { VolumePlanInput } from '../../recipes/volume/plan.ts';
import { readTaskFile } from '../../recipes/volume/task-file.ts';
import type { TaskFileSettings } from '../../recipes/volume/task-file.ts';
import { localPathOf } from '../../storage/spec.ts';
import { Output } from '../output.ts';
import { plannedEvent, runRecipeCommand } from '../run-recipe.ts';
import { storeOptionsFrom } from '../store-options.ts';

/** The options of volume.ts; the storage flags ride along for storeOptionsFrom. */
type PlanOptions = Record<string, unknown> & {
  task?: string;
  voxelSize?: Vec3;
  offset?: Vec3;
  chunk?: Vec3;
  taskSize?: Vec3;
  nonzeroThreshold?: number;
  encoding?: 'raw' | 'png' | 'jpeg';
  scales?: number;
  factor?: Vec3;
  sharded?: boolean;
  fillGaps?: boolean;
  grid?: Vec3;
  origin?: Vec3;
  stride?: Vec3;
  run?: string;
  dryRun?: boolean;
  ledger?: string;
};

interface PlanFacts {
  run: string;
  info: Info;
  source: { kind: string };
  sourceBounds: Box;
  missing: number[];
  translation: Vec3;
  box: Box;
  gridBox?: Box;
  taskSize: Vec3;
  tasks: number;
  destination: string;
  contentEncodingGzip: boolean;
}

/** ChunkFlow's task grid from the flags and the task file: a grid needs its count (-g); origin (-o) and stride (-s) go with it. */
function gridOf(o: PlanOptions, file: TaskFileSettings): VolumePlanInput['grid'] {
  const count = o.grid ?? file.grid;
  if (!count) {
    if (o.origin || o.stride) throw new FerryError(`${o.origin ? '--origin' : '--stride'} places a task grid, which needs --grid`, { hint: 'give --grid nx,ny,nz (taskproducer.jl -g) too' });
    return undefined;
  }
  const origin = o.origin ?? file.origin;
  if (!origin) throw new FerryError('--grid needs the grid\'s origin', { hint: 'give --origin x,y,z (taskproducer.jl -o, 1-based), or origin in the task file' });
  return { origin, count, stride: o.stride ?? file.stride };
}

/** How source coordinates map to the volume's, in words a ChunkFlow user can check against their config. */
function placementLines(f: PlanFacts, input: VolumePlanInput): string[] {
  const s0 = f.info.scales[0];
  const lines: string[] = [];
  if (f.source.kind === 'registry') {
    lines.push(
      `Aligned space: the sections cover ${formatBox(f.sourceBounds)} (0-based, end exclusive); pixel (i, j) of the section on registry line n ` +
        'is at (xoff + i, yoff + j, n - 1), which ChunkFlow indexes 1-based as one more on each axis',
    );
  }
  const t = f.translation;
  lines.push(`Volume: voxel = source coordinate + offset (${t.join(',')}): source ${formatBox(f.box)} is voxel_offset ${s0.voxel_offset.join(',')}, size ${s0.size.join(',')}`);
  if (f.gridBox && input.grid) {
    const g = input.grid;
    lines.push(
      `Task grid: origin ${g.origin.join(',')} (1-based), ${g.count.join(' x ')} tasks, stride ${(g.stride ?? input.taskSize).join(',')}, cutouts of ${input.taskSize.join(',')}: ` +
        `source ${formatBox(f.gridBox)}; ${sameBox(f.gridBox, f.box) ? 'all of it holds sections' : `the tasks that hold sections keep ${formatBox(f.box)}`}`,
    );
  }
  return lines;
}

const sameBox = (a: Box, b: Box) => [0, 1, 2].every((d) => a.start[d] === b.start[d] && a.end[d] === b.end[d]);

/** A local path made absolute, so that a worker started in another folder finds it; other URLs as given. */
function absolute(url: string): string {
  const local = localPathOf(url);
  return local === undefined ? url : resolve(local);
}

export async function planVolumeCommand(src: string | undefined, dst: string | undefined, o: PlanOptions, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  const file: TaskFileSettings = o.task ? await readTaskFile(resolve(o.task)) : {};
  const source = src ?? file.src;
  const dest = dst ?? file.dst;
  if (!source || !dest) throw new FerryError('plan needs a source and a destination', { hint: 'give SRC and DST, or a --task file that names them' });
  const voxelSize = o.voxelSize ?? file.voxelSize;
  if (!voxelSize) throw new FerryError('no voxel size', { hint: 'give --voxel-size x,y,z in nm, e.g. 4,4,40' });
  const grid = gridOf(o, file);
  // ChunkFlow's outputs.path is the folder of the full-resolution scale, which Ferry names by its resolution.
  if (!dst && file.scaleFolder !== undefined && file.scaleFolder !== scaleKey(voxelSize)) {
    throw new FerryError(`outputs.path in ${o.task} ends in the scale folder "${file.scaleFolder}", but Ferry names the full-resolution scale by its resolution: ${scaleKey(voxelSize)}`, {
      hint: `end outputs.path in /${scaleKey(voxelSize)}/ (its parent folder holds the info, as for BigArrays), or give the dataset folder as DST`,
      kind: 'config',
    });
  }
  const input: VolumePlanInput = {
    src: absolute(source),
    dst: absolute(dest),
    voxelSize,
    offset: o.offset ?? file.offset,
    chunk: o.chunk ?? file.chunk ?? [64, 64, 64],
    taskSize: o.taskSize ?? file.taskSize ?? [4096, 4096, 64],
    nonzeroThreshold: o.nonzeroThreshold ?? file.nonzeroThreshold ?? 0.01,
    encoding: o.encoding ?? file.encoding ?? 'raw',
    scales: o.scales ?? file.scales ?? 1,
    factor: o.factor ?? file.factor ?? [2, 2, 1],
    sharded: Boolean(o.sharded ?? file.sharded),
    fillGaps: Boolean(o.fillGaps ?? file.fillGaps),
    grid,
    store: storeOptionsFrom(o),
  };
  await runRecipeCommand({
    recipe: 'volume',
    input: { ...input, run: o.run ?? file.run },
    ledger: o.ledger,
    out,
    dryRun: o.dryRun,
    run: 'none',
    onPlanned: (outcome) => {
      out.event('planned', plannedEvent(outcome));
      const { plan, runs, dryRun } = outcome;
      const f = plan.facts as unknown as PlanFacts;
      out.line(`Source: ${boxShape(f.sourceBounds).join(' x ')} ${f.info.data_type} (${f.source.kind} ${input.src})`);
      for (const l of placementLines(f, input)) out.line(l);
      out.table([
        ['scale', 'size', 'offset', 'chunk', 'encoding', 'sharding'],
        ...f.info.scales.map((s) => [
          s.key,
          s.size.join(','),
          s.voxel_offset.join(','),
          s.chunk_sizes[0].join(','),
          s.encoding + (f.contentEncodingGzip ? ' (gzip)' : ''),
          s.sharding ? `shard ${s.sharding.shard_bits} mini ${s.sharding.minishard_bits} pre ${s.sharding.preshift_bits} ${s.sharding.data_encoding}` : '-',
        ]),
      ]);
      out.line(`${f.tasks} task(s) of ${f.taskSize.join(',')} voxels into ${input.dst}${f.destination === 'same' ? ' (the volume there is already complete with this layout)' : ''}`);
      if (dryRun) {
        out.line(`Dry run: would plan ${f.tasks} job(s) in run '${f.run}'.`);
        return;
      }
      const { run, added, jobs } = runs[0];
      out.line(`Planned ${added} new job(s) in run '${run.name}' (${jobs - added} already there). Run them with: ferry work --run ${run.name} --until-empty`);
    },
    onDone: () => {},
  });
}
