// ferry volume plan | serve: an aligned image stack (or a precomputed volume) to Neuroglancer
// precomputed on S3, GCS or a folder, as ledger tasks (seed 003); and serving a dataset folder.
// The actions load from volume-plan.ts and volume-serve.ts when one runs.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { Vec3 } from '../../arrays/box.ts';
import { FerryError } from '../../errors.ts';
import { addStoreOptions, LEDGER_HELP } from '../store-options.ts';

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

function port(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new FerryError(`--port must be a whole number from 1 to 65535, not "${text}"`);
  return n;
}

export function register(program: Command): void {
  const volume = program.command('volume').description('aligned image stacks to Neuroglancer precomputed volumes (S3, GCS or a folder)');

  addStoreOptions(
    volume
      .command('plan')
      .argument('[src]', 'folder of 2D sections (PNG/TIFF, ordered by the number in the name), a registry of aligned sections (HDF5, PNG or TIFF, each at its offset), or a precomputed volume')
      .argument('[dst]', 'destination: s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or a folder')
      .description('plan an ingest as one ledger job per task (run them with `ferry work` or `ferry submit`); writes nothing to the destination')
      .option('--task <file>', 'JSON/YAML task description (ChunkFlow ingestion config or Ferry\'s keys); flags override it')
      .addOption(new Option('--voxel-size <x,y,z>', 'voxel size in nm').argParser(vec3('--voxel-size', true)))
      .addOption(new Option('--offset <x,y,z>', 'added to source coordinates to place them in the volume, as ChunkFlow\'s offset (default 0: a stack starts at 0, a registry\'s sections and a precomputed volume stay where they are)').argParser(intVec3('--offset', false)))
      .addOption(new Option('--chunk <x,y,z>', 'chunk size (default 64,64,64)').argParser(intVec3('--chunk', true)))
      .addOption(new Option('--task-size <x,y,z>', 'voxels one task reads and writes, a multiple of the chunk size (default 4096,4096,64)').argParser(intVec3('--task-size', true)))
      .addOption(new Option('--nonzero-threshold <fraction>', 'chunks with a smaller fraction of non-zero voxels are not written (default 0.01)').argParser(fraction))
      .addOption(new Option('--encoding <encoding>', 'chunk encoding (default raw)').choices(['raw', 'png', 'jpeg']))
      .addOption(new Option('--scales <n>', 'scales in all, full resolution included (default 1)').argParser(positiveInt('--scales')))
      .addOption(new Option('--factor <x,y,z>', 'downsampling factor per scale (default 2,2,1)').argParser(intVec3('--factor', true)))
      .option('--sharded', 'write neuroglancer_uint64_sharded_v1 shards (one task owns whole shards)')
      .option('--fill-gaps', 'write zeros for sections that are missing (numbers skipped in a folder, files a registry names) instead of failing')
      .addOption(new Option('--grid <nx,ny,nz>', 'ChunkFlow\'s task grid (taskproducer.jl -g): tasks along each axis from --origin; default: the source\'s bounds').argParser(intVec3('--grid', true)))
      .addOption(new Option('--origin <x,y,z>', 'where the grid starts, 1-based source coordinates as taskproducer.jl -o (default: the task file\'s origin)').argParser(intVec3('--origin', false)))
      .addOption(new Option('--stride <x,y,z>', 'from one grid task to the next, as taskproducer.jl -s (default: the task size)').argParser(intVec3('--stride', true)))
      .option('--run <name>', 'run name in the ledger (default: volume-<destination folder name>)')
      .option('--dry-run', 'print the plan, create no jobs')
      .option('--ledger <url>', LEDGER_HELP),
  ).action(async (src: string | undefined, dst: string | undefined, o, cmd: Command) => (await import('./volume-plan.ts')).planVolumeCommand(src, dst, o, cmd));

  volume
    .command('serve')
    .argument('<dir>', 'folder holding a precomputed dataset (its info file)')
    .description('serve a dataset folder on 127.0.0.1 for Neuroglancer (CORS, Range, Content-Encoding) and print a link')
    .addOption(new Option('--port <n>', 'port (default: any free one)').argParser(port))
    .action(async (dir: string, o: { port?: number }, cmd: Command) => (await import('./volume-serve.ts')).serveVolume(dir, o, cmd));
}
