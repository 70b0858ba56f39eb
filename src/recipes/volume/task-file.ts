// A task description file (JSON or YAML) as the plan's settings: either ChunkFlow's ingestion
// config (seed 003: input.params.origin / cutoutSize / offset / voxelSize / nonzeroRatioThreshold,
// input.inputs.registerFile, <stage>.outputs.path) or Ferry's own flat form with the CLI's names.
// ChunkFlow's `origin` is where its task producer's grid starts when `--grid` is given; without a
// grid the volume is the source's bounds (a producer replaces every task's origin anyway).
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FerryError } from '../../errors.ts';

const vec3 = z.tuple([z.number(), z.number(), z.number()]);

const FlatSchema = z.strictObject({
  src: z.string().optional(),
  dst: z.string().optional(),
  voxelSize: vec3.optional(),
  offset: vec3.optional(),
  chunk: vec3.optional(),
  taskSize: vec3.optional(),
  nonzeroThreshold: z.number().optional(),
  encoding: z.enum(['raw', 'png', 'jpeg']).optional(),
  scales: z.number().int().optional(),
  factor: vec3.optional(),
  sharded: z.boolean().optional(),
  fillGaps: z.boolean().optional(),
  origin: vec3.optional(),
  grid: vec3.optional(),
  stride: vec3.optional(),
  run: z.string().optional(),
});
export type TaskFileSettings = z.infer<typeof FlatSchema> & {
  /**
   * The scale folder ChunkFlow's outputs.path names: BigArrays writes chunks there and reads the
   * info from its parent (GSDicts.jl get_info, seung-lab/BigArrays.jl src/backends/GSDicts.jl at
   * 19615d7), so `dst` is that parent and this folder must be the scale Ferry writes.
   */
  scaleFolder?: string;
};

const ChunkFlowSchema = z.looseObject({
  input: z.looseObject({
    params: z.looseObject({
      origin: z.array(z.number()).min(3).optional(),
      cutoutSize: vec3.optional(),
      chunkSize: vec3.optional(),
      offset: vec3.optional(),
      voxelSize: vec3.optional(),
      nonzeroRatioThreshold: z.number().optional(),
    }),
    inputs: z.looseObject({ registerFile: z.string().optional() }).optional(),
  }),
});

function fromChunkFlow(doc: z.infer<typeof ChunkFlowSchema>, raw: Record<string, unknown>): TaskFileSettings {
  const p = doc.input.params;
  // The stage that writes to the cloud is the one with outputs.path (blend2cloud in the seed).
  const out = Object.values(raw)
    .map((stage) => (stage as { outputs?: { path?: unknown } })?.outputs?.path)
    .find((v): v is string => typeof v === 'string');
  const scale = out === undefined ? undefined : splitScaleFolder(out);
  return {
    src: doc.input.inputs?.registerFile,
    dst: scale?.dataset,
    scaleFolder: scale?.folder,
    voxelSize: p.voxelSize,
    offset: p.offset,
    // cutoutchunk.jl keeps the first three of `origin` for an aligned array, and takes the older
    // name chunkSize for cutoutSize.
    origin: p.origin?.slice(0, 3) as TaskFileSettings['origin'],
    taskSize: p.cutoutSize ?? p.chunkSize,
    nonzeroThreshold: p.nonzeroRatioThreshold,
  };
}

/** `gs://b/image/4_4_40/` -> `gs://b/image/` and `4_4_40`. */
function splitScaleFolder(path: string): { dataset: string; folder: string } {
  const trimmed = path.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  return { dataset: slash < 0 ? '.' : trimmed.slice(0, slash + 1), folder: trimmed.slice(slash + 1) };
}

function settingsOf(raw: Record<string, unknown>, file: string): TaskFileSettings {
  const chunkflow = ChunkFlowSchema.safeParse(raw);
  if (chunkflow.success) return fromChunkFlow(chunkflow.data, raw);
  const flat = FlatSchema.safeParse(raw);
  if (flat.success) return flat.data;
  const issues = flat.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
  throw new FerryError(`${file} is not a task description: ${issues.slice(0, 4).join('; ')}`, {
    hint: "use ChunkFlow's ingestion config (input.params, input.inputs.registerFile, outputs.path) or the keys src, dst, voxelSize, offset, chunk, taskSize, nonzeroThreshold, encoding, scales, factor, sharded, fillGaps, origin, grid, stride",
  });
}

export async function readTaskFile(file: string): Promise<TaskFileSettings> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(file, 'utf8'));
  } catch (e) {
    throw new FerryError(`cannot read the task description ${file}: ${(e as Error).message}`, { hint: 'give a JSON or YAML file' });
  }
  if (typeof raw !== 'object' || raw === null) throw new FerryError(`${file} is not a JSON or YAML object`, { hint: 'give a JSON or YAML file' });
  const s = settingsOf(raw as Record<string, unknown>, file);
  // Local paths are relative to the description, as a registry's entries are to the registry.
  const local = (p: string | undefined) => (p && !/^[a-z][a-z0-9+.-]*:\/\//i.test(p) ? resolve(dirname(file), p) : p);
  return { ...s, src: local(s.src), dst: local(s.dst) };
}
