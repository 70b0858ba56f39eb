// The action of `ferry volume plan` (see volume.ts): merges a task file with the flags, hands the
// plan to the volume recipe, and prints the scales and the tasks planned.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { Vec3 } from '../../arrays/box.ts';
import { FerryError } from '../../errors.ts';
import type { Info } from '../../formats/precomputed/info.ts';
import type { VolumePlanInput } from '../../recipes/volume/plan.ts';
import { readTaskFile } from '../../recipes/volume/task-file.ts';
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
  run?: string;
  dryRun?: boolean;
  ledger?: string;
};

/** A local path made absolute, so that a worker started in another folder finds it; other URLs as given. */
function absolute(url: string): string {
  const local = localPathOf(url);
  return local === undefined ? url : resolve(local);
}

export async function planVolumeCommand(src: string | undefined, dst: string | undefined, o: PlanOptions, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  const file = o.task ? await readTaskFile(resolve(o.task)) : {};
  const source = src ?? file.src;
  const dest = dst ?? file.dst;
  if (!source || !dest) throw new FerryError('plan needs a source and a destination', { hint: 'give SRC and DST, or a --task file that names them' });
  const voxelSize = o.voxelSize ?? file.voxelSize;
  if (!voxelSize) throw new FerryError('no voxel size', { hint: 'give --voxel-size x,y,z in nm, e.g. 4,4,40' });
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
      const f = plan.facts as { run: string; info: Info; source: { kind: string }; tasks: number; destination: string; contentEncodingGzip: boolean };
      const s0 = f.info.scales[0];
      out.line(`Source: ${s0.size.join(' x ')} ${f.info.data_type} (${f.source.kind} ${input.src})`);
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
      out.line(`${f.tasks} task(s) of ${input.taskSize.join(',')} voxels into ${input.dst}${f.destination === 'same' ? ' (the volume there is already complete with this layout)' : ''}`);
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
