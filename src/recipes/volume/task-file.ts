// A task description file (JSON or YAML) as the plan's settings: either ChunkFlow's ingestion
// config (seed 003: input.params.cutoutSize / offset / voxelSize / nonzeroRatioThreshold,
// input.inputs.registerFile, <stage>.outputs.path) or Ferry's own flat form with the CLI's names.
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
  run: z.string().optional(),
});
export type TaskFileSettings = z.infer<typeof FlatSchema>;

const ChunkFlowSchema = z.looseObject({
  input: z.looseObject({
    params: z.looseObject({
      cutoutSize: vec3.optional(),
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
  return {
    src: doc.input.inputs?.registerFile,
    dst: out,
    voxelSize: p.voxelSize,
    offset: p.offset,
    taskSize: p.cutoutSize,
    nonzeroThreshold: p.nonzeroRatioThreshold,
  };
}

function settingsOf(raw: Record<string, unknown>, file: string): TaskFileSettings {
  const chunkflow = ChunkFlowSchema.safeParse(raw);
  if (chunkflow.success) return fromChunkFlow(chunkflow.data, raw);
  const flat = FlatSchema.safeParse(raw);
  if (flat.success) return flat.data;
  const issues = flat.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
  throw new FerryError(`${file} is not a task description: ${issues.slice(0, 4).join('; ')}`, {
    hint: "use ChunkFlow's ingestion config (input.params, input.inputs.registerFile, outputs.path) or the keys src, dst, voxelSize, offset, chunk, taskSize, nonzeroThreshold, encoding, scales, factor, sharded",
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
