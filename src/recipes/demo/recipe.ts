// The demo (`ferry demo`): the main job on embedded defaults. A generated acquisition is planned
// as one `transfer.sync` job per folder into a local "bucket" folder, run by local workers, and the
// run is summed up by checking every file of the bucket against the instrument by content.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { FerryError } from '../../errors.ts';
import { defineRecipe } from '../../runtime/recipe.ts';
import { openStore } from '../../storage/open.ts';
import { check, checkPassed } from '../../transfer/check.ts';
import { TRANSFER_JOB, transferKinds } from '../../transfer/kind.ts';
import { zodInput } from '../input.ts';
import { writeSampleAcquisition } from './sample.ts';

const Input = z.strictObject({ dir: z.string().min(1), tiles: z.number().int().positive().default(300) });
export type DemoInput = z.infer<typeof Input>;

export const recipe = defineRecipe<DemoInput>({
  name: 'demo',
  title: 'Demo: a generated acquisition copied into a local bucket folder and verified by content',
  input: zodInput(Input, 'demo input'),
  kinds: transferKinds,

  async plan(input) {
    const dir = resolve(input.dir);
    await usableFolder(dir);
    const instrument = join(dir, 'instrument');
    const bucket = join(dir, 'bucket');
    await rm(instrument, { recursive: true, force: true });
    const sample = await writeSampleAcquisition(instrument, input.tiles);
    const folders = (await readdir(instrument, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    return {
      runs: [
        {
          name: 'demo',
          labels: { instrument, bucket },
          identity: { instrument, bucket },
          jobs: folders.map((f) => ({ kind: TRANSFER_JOB, key: f, params: { src: join(instrument, f), dst: join(bucket, f) } })),
          // Every demo run verifies afresh, even when an earlier one already did.
          requeue: 'all',
        },
      ],
      warnings: [],
      facts: { instrument, bucket, files: sample.files, bytes: sample.bytes },
    };
  },

  async report(view) {
    const { instrument, bucket } = view.run.labels;
    const c = view.status.counts;
    const [src, dst] = [await openStore(instrument), await openStore(bucket)];
    const report = await check(src, dst, { checksum: true }).finally(() => Promise.all([src.close(), dst.close()]));
    const ok = checkPassed(report) && c.success === c.total;
    return {
      run: view.run.name,
      ok,
      lines: [
        `checked every file by content (CRC32C): ${report.matching} of ${report.compared} identical, ${report.missingOnDestination.length} missing, ${report.differing.length} differing`,
        ok ? `VERIFIED: ${bucket} holds all ${report.compared} files of the acquisition, byte for byte.` : 'NOT VERIFIED: see the lines above',
      ],
      data: { jobs: c, check: report, verified: ok },
    };
  },
});

/** The demo's folder, made if need be: a file of that name, or a path through one, is a usage error. */
async function usableFolder(dir: string): Promise<void> {
  const made = await mkdir(dir, { recursive: true }).then(() => undefined, (e: NodeJS.ErrnoException) => e);
  if (!made && (await stat(dir)).isDirectory()) return;
  const notFolder = !made || made.code === 'ENOTDIR' || made.code === 'EEXIST';
  const why = notFolder ? 'is a file, or a path through one, not a folder' : made.code === 'EACCES' ? 'cannot be created here (permission denied)' : made.message;
  throw new FerryError(`--dir ${dir} ${why}`, { hint: 'give a folder for the demo (it is made if it does not exist), e.g. --dir ferry-demo', kind: 'usage' });
}
