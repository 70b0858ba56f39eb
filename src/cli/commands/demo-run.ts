// ferry demo, the action: a generated acquisition is planned into the SQLite ledger as one transfer
// job per folder, run by local workers, then checked file by file by content, exactly as a facility
// run would go.
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { readdir, rm } from 'node:fs/promises';
import { EXIT_OK, EXIT_PARTIAL } from '../../errors.ts';
import { openLedger } from '../../ledger/open.ts';
import { writeSampleAcquisition } from '../../recipes/demo/sample.ts';
import { loadHandlers } from '../../recipes/handlers.ts';
import { Worker } from '../../runtime/worker.ts';
import { openStore } from '../../storage/open.ts';
import { check, checkPassed } from '../../transfer/check.ts';
import { TRANSFER_JOB } from '../../transfer/job.ts';
import { Output, formatBytes, formatDuration } from '../output.ts';

export interface DemoOptions {
  dir: string;
  tiles: number;
  workers: number;
}

export async function runDemo(o: DemoOptions, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  const dir = resolve(o.dir);
  process.env.FERRY_WORKDIR ??= join(dir, '.ferry');
  const instrument = join(dir, 'instrument');
  const bucket = join(dir, 'bucket');
  await rm(instrument, { recursive: true, force: true });
  const sample = await writeSampleAcquisition(instrument, o.tiles);
  out.line(`1. generated a sample acquisition: ${sample.files} files, ${formatBytes(sample.bytes)} in ${instrument}`);

  await loadHandlers();
  const ledger = await openLedger(join(dir, '.ferry', 'ledger.sqlite'));
  const started = Date.now();
  try {
    const run = await ledger.createRun({ name: 'demo', labels: { recipe: 'demo', instrument, bucket } });
    const folders = (await readdir(instrument, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    const added = await ledger.addJobs(run.id, folders.map((f) => ({
      kind: TRANSFER_JOB,
      key: f,
      params: { src: join(instrument, f), dst: join(bucket, f) },
    })));
    out.line(`2. planned ${folders.length} transfer jobs (one per folder, ${added} new) in the ledger ${ledger.where}`);
    const worker = new Worker(ledger, { runIds: [run.id], concurrency: o.workers, untilEmpty: true, warn: (m) => out.warn(m) });
    const stop = out.startProgress(() => ({ unit: 'jobs', done: worker.counts.succeeded, total: folders.length, failed: worker.counts.failed }));
    const summary = await worker.run().finally(stop);
    const [status] = await ledger.status({ runIds: [run.id] });
    out.line(`3. ${o.workers} local workers ran them in ${formatDuration((Date.now() - started) / 1000)}: ${status.counts.success} of ${status.counts.total} jobs success, ${status.counts.error} error (this run: ${summary.succeeded} succeeded)`);

    const report = await check(await openStore(instrument), await openStore(bucket), { checksum: true });
    const ok = checkPassed(report) && status.counts.success === status.counts.total;
    out.line(`4. checked every file by content (CRC32C): ${report.matching} of ${report.compared} identical, ${report.missingOnDestination.length} missing, ${report.differing.length} differing`);
    out.line(ok ? `VERIFIED: ${bucket} holds all ${sample.files} files of the acquisition, byte for byte.` : 'NOT VERIFIED: see the lines above');
    out.line(`Next: FERRY_LEDGER=${join(dir, '.ferry', 'ledger.sqlite')} npm run ferry -- status   |   npm run ferry -- sync ${instrument} ${bucket}`);
    out.event('summary', { jobs: status.counts, check: report, verified: ok });
    process.exitCode = ok ? EXIT_OK : EXIT_PARTIAL;
  } finally {
    await ledger.close();
  }
}
