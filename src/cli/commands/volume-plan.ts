// The action of `ferry volume plan` (see volume.ts): reads the source, plans the tasks, and adds
// them to the ledger.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { Vec3 } from '../../arrays/box.ts';
import { FerryError } from '../../errors.ts';
import { openLedger } from '../../ledger/open.ts';
import { defaultRunName, enqueueVolume, planVolume } from '../../recipes/volume/plan.ts';
import type { VolumePlanInput } from '../../recipes/volume/plan.ts';
import { readTaskFile } from '../../recipes/volume/task-file.ts';
import { parseStoreUrl } from '../../storage/open.ts';
import { Output } from '../output.ts';
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

export async function planVolumeCommand(src: string | undefined, dst: string | undefined, o: PlanOptions, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  const file = o.task ? await readTaskFile(resolve(o.task)) : {};
  const source = src ?? file.src;
  const dest = dst ?? file.dst;
  if (!source || !dest) throw new FerryError('plan needs a source and a destination', { hint: 'give SRC and DST, or a --task file that names them' });
  const voxelSize = o.voxelSize ?? file.voxelSize;
  if (!voxelSize) throw new FerryError('no voxel size', { hint: 'give --voxel-size x,y,z in nm, e.g. 4,4,40' });
  const input: VolumePlanInput = {
    src: parseStoreUrl(source).scheme === 'file' ? resolve(parseStoreUrl(source).path) : source,
    dst: parseStoreUrl(dest).scheme === 'file' ? resolve(parseStoreUrl(dest).path) : dest,
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
  const plan = await planVolume(input);
  for (const w of plan.warnings) out.warn(w);
  const runName = o.run ?? file.run ?? defaultRunName(input.dst);
  const s0 = plan.info.scales[0];
  out.line(`Source: ${s0.size.join(' x ')} ${plan.info.data_type} (${plan.source.kind} ${input.src})`);
  out.table([
    ['scale', 'size', 'offset', 'chunk', 'encoding', 'sharding'],
    ...plan.info.scales.map((s) => [
      s.key,
      s.size.join(','),
      s.voxel_offset.join(','),
      s.chunk_sizes[0].join(','),
      s.encoding + (plan.contentEncodingGzip ? ' (gzip)' : ''),
      s.sharding ? `shard ${s.sharding.shard_bits} mini ${s.sharding.minishard_bits} pre ${s.sharding.preshift_bits} ${s.sharding.data_encoding}` : '-',
    ]),
  ]);
  out.line(`${plan.tasks.length} task(s) of ${input.taskSize.join(',')} voxels into ${input.dst}${plan.destination === 'same' ? ' (the volume there is already complete with this layout)' : ''}`);
  out.event('plan', { run: runName, src: input.src, dst: input.dst, tasks: plan.tasks.length, destination: plan.destination, info: plan.info, dryRun: Boolean(o.dryRun) });
  if (o.dryRun) {
    out.line(`Dry run: would plan ${plan.tasks.length} job(s) in run '${runName}'.`);
    return;
  }
  const ledger = await openLedger(o.ledger);
  try {
    const { run, added } = await enqueueVolume(ledger, plan, runName);
    out.line(`Planned ${added} new job(s) in run '${run.name}' (${plan.tasks.length - added} already there). Run them with: ferry work --run ${run.name} --until-empty`);
    out.event('planned', { run: run.name, added, tasks: plan.tasks.length });
  } finally {
    await ledger.close();
  }
}
