// The `fibsem.convert` job kind: a batch of `.dat` files to InLens PNGs and logs, so a cluster can
// convert a tab (`ferry fibsem convert` plans the batches, `ferry work` / `ferry submit` run them).
// Idempotent: a tile whose PNG and log are both there is skipped, so a retried or repeated job only
// does what is left. A job with a bad tile converts the others, then fails naming the bad ones.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { errorMessage, FerryError } from '../../errors.ts';
import { convertDatToInLensPng } from '../../formats/fibsem/convert.ts';
import { DAT_SUFFIX, INLENS_SUFFIX, LOG_SUFFIX, coreName } from '../../formats/fibsem/names.ts';
import type { Handler } from '../../runtime/registry.ts';
import { CONVERT_JOB } from './convert-plan.ts';
import type { ConvertJobParams } from './convert-plan.ts';


const ParamsSchema = z.strictObject({
  dats: z.array(z.string().min(1)).min(1),
  pngDir: z.string().min(1),
  logDir: z.string().min(1),
});

export const convertHandler: Handler<ConvertJobParams> = {
  validate(p) {
    const r = ParamsSchema.safeParse(p);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new FerryError(`${CONVERT_JOB} parameters: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
        hint: 'expected {"dats": [".dat paths"], "pngDir": "...", "logDir": "..."}',
      });
    }
    return r.data;
  },
  async run(ctx, p) {
    const failed: { dat: string; error: string }[] = [];
    let converted = 0;
    let skipped = 0;
    for (const [i, dat] of p.dats.entries()) {
      if (ctx.signal.aborted) throw new Error('stopped before the batch was done; the rest runs on the next attempt');
      ctx.progress({ done: i, total: p.dats.length, unit: 'tiles' });
      if (await done(dat, p)) {
        skipped++;
        continue;
      }
      try {
        await convertDatToInLensPng(dat, p.pngDir, p.logDir, { keepExisting: true });
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
  },
};

async function done(dat: string, p: ConvertJobParams): Promise<boolean> {
  const core = coreName(dat, DAT_SUFFIX) ?? dat;
  try {
    // The log is written after the PNG, so a log means the PNG is complete.
    await access(join(p.pngDir, core + INLENS_SUFFIX));
    await access(join(p.logDir, core + LOG_SUFFIX));
    return true;
  } catch {
    return false;
  }
}
