// The job kind of a volume ingest: one task of the grid (see src/volume/ingest-task.ts).
import { z } from 'zod';
import { DATA_TYPES } from '../../arrays/voxels.ts';
import { FerryError } from '../../errors.ts';
import { parseInfo } from '../../formats/precomputed/info.ts';
import type { Handler } from '../../runtime/registry.ts';
import { StoreOptionsSchema } from '../../storage/spec-schema.ts';
import { runIngestTask } from '../../volume/ingest-task.ts';
import type { IngestTaskParams } from '../../volume/ingest-task.ts';
import { INGEST_JOB } from './kinds.ts';

const vec3 = z.tuple([z.number().int(), z.number().int(), z.number().int()]);
const box = z.object({ start: vec3, end: vec3 });

const ParamsSchema = z.looseObject({
  source: z.union([
    z.object({ kind: z.literal('sections'), folder: z.string(), fillGaps: z.boolean().optional() }),
    z.object({ kind: z.literal('registry'), file: z.string(), fillGaps: z.boolean().optional() }),
    z.object({ kind: z.literal('precomputed'), url: z.string(), scale: z.string().optional() }),
  ]),
  planned: z.object({ bounds: box, dataType: z.enum(DATA_TYPES), missing: z.array(z.number().int().min(0)) }),
  translation: vec3,
  dst: z.string().min(1),
  store: StoreOptionsSchema.optional(),
  info: z.unknown(),
  factor: vec3,
  taskCount: z.number().int().min(1),
  nonzeroThreshold: z.number().min(0).max(1),
  contentEncodingGzip: z.boolean(),
  gzipLevel: z.number().int().min(1).max(9).optional(),
  task: z.object({ key: z.string(), read: box, boxes: z.array(box).min(1) }),
});

export const ingestHandler: Handler<IngestTaskParams> = {
  validate(params) {
    const parsed = ParamsSchema.safeParse(params);
    if (!parsed.success) {
      throw new FerryError(`bad ${INGEST_JOB} parameters: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
        hint: 'plan the job with `ferry volume plan`',
      });
    }
    return { ...parsed.data, info: parseInfo(parsed.data.info, 'planned info') } as IngestTaskParams;
  },
  async run(ctx, p) {
    const r = await runIngestTask(p, { signal: ctx.signal, progress: (done, total) => ctx.progress({ done, total, unit: 'slabs' }) });
    await ctx.log(`${r.task}: wrote ${r.written} object(s), ${r.bytes} bytes; skipped ${r.skipped} empty chunk(s)${r.committed ? '; all tasks done, info written' : ''}`);
    return r;
  },
};
