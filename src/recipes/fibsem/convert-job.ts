// The `fibsem.convert` job kind: a batch of `.dat` files to InLens PNGs and logs, so a cluster can
// convert a tab (`ferry fibsem convert` plans the batches, `ferry work` / `ferry submit` run them).
// Idempotent: a tile whose PNG and log are both there is skipped, so a retried or repeated job only
// does what is left. A job with a bad tile converts the others, then fails naming the bad ones.
// Files and folders are local paths or store URLs (s3://, gs://), with `store` options for those.
import { z } from 'zod';
import { errorMessage, FerryError } from '../../errors.ts';
import { convertDatToInLensPng } from '../../formats/fibsem/convert.ts';
import { DAT_SUFFIX, INLENS_SUFFIX, LOG_SUFFIX, coreName } from '../../formats/fibsem/names.ts';
import type { Handler, JobContext } from '../../runtime/registry.ts';
import { FolderStores } from '../../storage/location.ts';
import type { StoreOptions } from '../../storage/spec.ts';
import { CONVERT_JOB } from './kinds.ts';
import type { ConvertJobParams } from './convert-plan.ts';

const ParamsSchema = z.strictObject({
  dats: z.array(z.string().min(1)).min(1),
  pngDir: z.string().min(1),
  logDir: z.string().min(1),
  store: z.record(z.string(), z.unknown()).optional(),
});

export const convertHandler: Handler<ConvertJobParams> = {
  validate(p) {
    const r = ParamsSchema.safeParse(p);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new FerryError(`${CONVERT_JOB} parameters: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
        hint: 'expected {"dats": [".dat paths or URLs"], "pngDir": "...", "logDir": "...", "store": {options for s3:// or gs://}}',
      });
    }
    return r.data;
  },
  async run(ctx, p) {
    const stores = new FolderStores(p.store as StoreOptions | undefined);
    try {
      return await convertBatch(ctx, p, stores);
    } finally {
      await stores.close();
    }
  },
};

async function convertBatch(ctx: JobContext, p: ConvertJobParams, stores: FolderStores): Promise<{ converted: number; skipped: number }> {
  const pngDir = await stores.folder(p.pngDir);
  const logDir = await stores.folder(p.logDir);
  const failed: { dat: string; error: string }[] = [];
  let converted = 0;
  let skipped = 0;
  for (const [i, dat] of p.dats.entries()) {
    if (ctx.signal.aborted) throw new Error('stopped before the batch was done; the rest runs on the next attempt');
    ctx.progress({ done: i, total: p.dats.length, unit: 'tiles' });
    const core = coreName(dat, DAT_SUFFIX) ?? dat;
    // The log is written after the PNG, so a log means the PNG is complete.
    if ((await pngDir.store.stat(core + INLENS_SUFFIX)) && (await logDir.store.stat(core + LOG_SUFFIX))) {
      skipped++;
      continue;
    }
    try {
      await convertDatToInLensPng(await stores.file(dat), pngDir, logDir, { keepExisting: true });
      converted++;
    } catch (e) {
      failed.push({ dat, error: errorMessage(e) });
      await ctx.log(`${dat}: ${errorMessage(e)}`);
    }
  }
  ctx.progress({ done: p.dats.length, total: p.dats.length, unit: 'tiles' });
  if (failed.length) {
    throw new Error(`${failed.length} of ${p.dats.length} tiles failed to convert, first: ${failed[0].error}`);
  }
  return { converted, skipped };
}
