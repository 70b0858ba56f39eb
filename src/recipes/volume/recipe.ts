// Volume ingestion (seed 003): an aligned image stack (or a precomputed volume) into Neuroglancer
// precomputed on S3, GCS or a folder, as one job per task of the grid, left for workers; the last
// task to finish writes `info`.
import { z } from 'zod';
import { defineRecipe } from '../../runtime/recipe.ts';
import { zodInput } from '../input.ts';
import { INGEST_JOB } from './kinds.ts';
import type { VolumePlanInput } from './plan.ts';

const vec3 = z.tuple([z.number(), z.number(), z.number()]);
const Input = z.strictObject({
  src: z.string().min(1),
  dst: z.string().min(1),
  voxelSize: vec3,
  offset: vec3.optional(),
  chunk: vec3,
  taskSize: vec3,
  nonzeroThreshold: z.number(),
  encoding: z.enum(['raw', 'png', 'jpeg']),
  jpegQuality: z.number().int().min(1).max(100).optional(),
  scales: z.number(),
  factor: vec3,
  sharded: z.boolean(),
  fillGaps: z.boolean().optional(),
  grid: z.strictObject({ origin: vec3, count: vec3, stride: vec3.optional() }).optional(),
  store: z.record(z.string(), z.unknown()).optional(),
  run: z.string().min(1).optional(),
});
export type VolumeInput = VolumePlanInput & { run?: string };

export const recipe = defineRecipe<VolumeInput>({
  name: 'volume',
  title: 'Volume ingestion: an aligned image stack to a Neuroglancer precomputed volume',
  input: zodInput(Input, 'volume input') as { parse(raw: unknown): VolumeInput },
  kinds: { [INGEST_JOB]: async () => (await import('./handlers.ts')).ingestHandler },

  async plan(input) {
    // Planning reads the source (sharp for image sections): loaded only when a volume is planned,
    // not when a worker merely learns this workflow's job kinds.
    const [{ defaultRunName, ingestJobs, planVolume }, { planId }] = await Promise.all([import('./plan.ts'), import('../../volume/commit.ts')]);
    const plan = await planVolume(input);
    const name = input.run ?? defaultRunName(input.dst);
    return {
      runs: [
        {
          name,
          labels: { src: input.src, dst: input.dst },
          // The same destination written from the same source with the same layout: anything else
          // under this run name would leave the destination half one volume, half another.
          identity: { src: input.src, dst: input.dst, layout: planId(plan.info), translation: plan.translation.join(',') },
          jobs: ingestJobs(plan),
          placement: 'cluster',
        },
      ],
      warnings: plan.warnings,
      facts: {
        run: name,
        src: input.src,
        dst: input.dst,
        source: plan.source,
        sourceBounds: plan.planned.bounds,
        missing: plan.planned.missing,
        translation: plan.translation,
        box: plan.box,
        gridBox: plan.gridBox,
        taskSize: plan.taskSize,
        info: plan.info,
        tasks: plan.tasks.length,
        destination: plan.destination,
        contentEncodingGzip: plan.contentEncodingGzip,
      },
    };
  },
});
