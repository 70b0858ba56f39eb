// The `transfer.sync` job kind: one verified copy (a tree or a list of files) as a ledger job, so
// every recipe that moves data (MouseLight products, JUMP plates, the demo) gets resumable,
// tracked, verified transfers without its own copy code. Idempotent: a re-run after a crash
// sends only what the manifest and the destination do not already prove.
import { z } from 'zod';
import { FerryError } from '../errors.ts';
import type { Handler } from '../runtime/registry.ts';
import { displayKey } from '../storage/names.ts';
import { openStore } from '../storage/open.ts';
import { StoreOptionsSchema } from '../storage/spec-schema.ts';
import type { StoreOptions } from '../storage/spec.ts';
import { newStats, transfer } from './engine.ts';

export const TransferJobParams = z.object({
  /** Store URL of the source folder or prefix. */
  src: z.string().min(1),
  /** Store URL of the destination folder or prefix. */
  dst: z.string().min(1),
  /** Copy only these keys, relative to src (single files); default: the whole tree. */
  files: z.array(z.string().min(1)).optional(),
  include: z.array(z.string()).optional(),
  exclude: z.array(z.string()).optional(),
  delete: z.boolean().optional(),
  checksum: z.boolean().optional(),
  transfers: z.number().int().positive().optional(),
  store: StoreOptionsSchema.optional(),
});
export type TransferJobParams = z.infer<typeof TransferJobParams>;

export const transferHandler: Handler<TransferJobParams> = {
  validate(p) {
    const r = TransferJobParams.safeParse(p);
    if (!r.success) throw new FerryError(`bad transfer.sync parameters: ${r.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}`);
    return r.data;
  },
  async run(ctx, p) {
    const opts: StoreOptions = p.store ?? {};
    // The worker's ledger keeps the manifests and upload journals, shared by all its workers.
    const state = await ctx.transferState();
    const context = { uploadJournal: state.uploads };
    const [src, dst] = [await openStore(p.src, opts, context), await openStore(p.dst, opts, context)];
    const stats = newStats();
    const report = () =>
      ctx.progress({
        unit: 'files',
        done: stats.copiedFiles + stats.skippedFiles,
        total: stats.listingDone ? stats.listed : undefined,
        bytesDone: stats.copiedBytes + stats.skippedBytes,
        bytesTotal: stats.listingDone ? stats.bytesTotal : undefined,
      });
    const timer = setInterval(report, 1000);
    try {
      await transfer(src, dst, {
        state, onlyKeys: p.files, include: p.include, exclude: p.exclude, delete: p.delete, checksum: p.checksum,
        transfers: p.transfers, multipartThreshold: opts.multipartThreshold, signal: ctx.signal,
      }, stats);
    } finally {
      clearInterval(timer);
      report();
      await Promise.all([src.close(), dst.close()]);
    }
    if (stats.failedFiles > 0) {
      const first = stats.failures.slice(0, 5).map((f) => `${displayKey(f.key)}: ${f.error}`).join('; ');
      for (const f of stats.failures.slice(0, 50)) await ctx.log(`failed ${displayKey(f.key)}: ${f.error}`);
      throw new FerryError(`${stats.failedFiles} of ${stats.listed} files failed (${first})`, { exitCode: 1 });
    }
    await ctx.log(
      `${stats.copiedFiles} files copied and verified (${stats.copiedBytes} bytes); ${stats.skippedFiles} unchanged at the destination ` +
        `(${stats.unchangedByContent} by content, ${stats.unchangedByDigest} by the destination's digest, ${stats.unchangedBySizeAndTime} by sizes and times only); ` +
        `${stats.deletedFiles} deleted`,
    );
    const { failures: _f, listingDone: _l, bytesInFlight: _b, ...counts } = stats;
    return counts;
  },
};
