// ferry volume plan | serve: an aligned image stack (or a precomputed volume) to Neuroglancer
// precomputed on S3, GCS or a folder, as ledger tasks (seed 003); and serving a dataset folder.
import { Option } from 'commander';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { FerryError } from '../../errors.ts';
import type { Vec3 } from '../../formats/precomputed/grid.ts';
import { readInfo } from '../../formats/precomputed/reader.ts';
import { openLedger } from '../../ledger/open.ts';
import { defaultRunName, enqueueVolume, planVolume } from '../../recipes/volume/plan.ts';
import type { VolumePlanInput } from '../../recipes/volume/plan.ts';
import { readTaskFile } from '../../recipes/volume/task-file.ts';
import { openStore, parseStoreUrl } from '../../storage/open.ts';
import { neuroglancerLink, serveFolder } from '../../volume/serve.ts';
import { Output } from '../output.ts';
import { addStoreOptions, storeOptionsFrom, LEDGER_HELP } from '../store-options.ts';


function vec3(name: string, positive: boolean) {
  return (text: string): Vec3 => {
    const v = text.split(',').map((s) => Number(s.trim()));
    if (v.length !== 3 || v.some((n) => !Number.isFinite(n) || (positive && n <= 0))) {
      throw new FerryError(`${name} "${text}" is not three ${positive ? 'positive ' : ''}numbers x,y,z`, { hint: `e.g. ${name} 4,4,40` });
    }
    return v as Vec3;
  };
}

function intVec3(name: string, positive: boolean) {
  const parse = vec3(name, positive);
  return (text: string): Vec3 => {
    const v = parse(text);
    if (v.some((n) => !Number.isInteger(n))) throw new FerryError(`${name} "${text}" must be whole numbers of voxels`);
    return v;
  };
}

function fraction(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new FerryError(`--nonzero-threshold "${text}" is not a fraction from 0 to 1`);
  return n;
}

function positiveInt(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new FerryError(`${name} must be a whole number of at least 1, not "${text}"`);
    return n;
  };
}

export function register(program: Command): void {
  const volume = program.command('volume').description('aligned image stacks to Neuroglancer precomputed volumes (S3, GCS or a folder)');

  addStoreOptions(
    volume
      .command('plan')
      .argument('[src]', 'folder of 2D sections (PNG/TIFF, ordered by the number in the name), a registry file listing them, or a precomputed volume')
      .argument('[dst]', 'destination: s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or a folder')
      .description('plan an ingest as one ledger job per task (run them with `ferry work` or `ferry submit`); writes nothing to the destination')
      .option('--task <file>', 'JSON/YAML task description (ChunkFlow ingestion config or Ferry\'s keys); flags override it')
      .addOption(new Option('--voxel-size <x,y,z>', 'voxel size in nm').argParser(vec3('--voxel-size', true)))
      .addOption(new Option('--offset <x,y,z>', 'voxel offset of the volume (default: 0, or the source volume\'s)').argParser(intVec3('--offset', false)))
      .addOption(new Option('--chunk <x,y,z>', 'chunk size (default 64,64,64)').argParser(intVec3('--chunk', true)))
      .addOption(new Option('--task-size <x,y,z>', 'voxels one task reads and writes, a multiple of the chunk size (default 4096,4096,64)').argParser(intVec3('--task-size', true)))
      .addOption(new Option('--nonzero-threshold <fraction>', 'chunks with a smaller fraction of non-zero voxels are not written (default 0.01)').argParser(fraction))
      .addOption(new Option('--encoding <encoding>', 'chunk encoding (default raw)').choices(['raw', 'png', 'jpeg']))
      .addOption(new Option('--scales <n>', 'scales in all, full resolution included (default 1)').argParser(positiveInt('--scales')))
      .addOption(new Option('--factor <x,y,z>', 'downsampling factor per scale (default 2,2,1)').argParser(intVec3('--factor', true)))
      .option('--sharded', 'write neuroglancer_uint64_sharded_v1 shards (one task owns whole shards)')
      .option('--fill-gaps', 'write zeros for section numbers missing from the folder instead of failing')
      .option('--run <name>', 'run name in the ledger (default: volume-<destination folder name>)')
      .option('--dry-run', 'print the plan, create no jobs')
      .option('--ledger <url>', LEDGER_HELP),
  ).action(async (src: string | undefined, dst: string | undefined, o, cmd: Command) => {
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
  });

  volume
    .command('serve')
    .argument('<dir>', 'folder holding a precomputed dataset (its info file)')
    .description('serve a dataset folder on 127.0.0.1 for Neuroglancer (CORS, Range, Content-Encoding) and print a link')
    .addOption(new Option('--port <n>', 'port (default: any free one)').argParser(positiveInt('--port')))
    .action(async (dir: string, o, cmd: Command) => {
      const out = new Output({ json: cmd.optsWithGlobals().json });
      const root = resolve(dir);
      const store = await openStore(root);
      let info;
      try {
        info = await readInfo(store);
      } finally {
        await store.close();
      }
      const server = await serveFolder(root, o.port ?? 0);
      const link = neuroglancerLink(server.url, info.type);
      out.line(`Serving ${root} at ${server.url}`);
      out.line(`Neuroglancer source: precomputed://${server.url.replace(/\/$/, '')}`);
      out.line(`Viewer link: ${link}`);
      out.line('Press Ctrl-C to stop.');
      out.event('serving', { dir: root, url: server.url, source: `precomputed://${server.url.replace(/\/$/, '')}`, link });
      await new Promise<void>((done) => {
        const stop = () => server.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
