// ferry demo: the main job on embedded defaults, with no server and no cloud account.
import { Option } from 'commander';
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { rm } from 'node:fs/promises';
import { EXIT_OK, EXIT_PARTIAL } from '../../errors.ts';
import { writeSampleAcquisition } from '../../recipes/demo/sample.ts';
import { openStore } from '../../storage/open.ts';
import { check, checkPassed } from '../../transfer/check.ts';
import { newStats, transfer } from '../../transfer/engine.ts';
import { Output, formatBytes, formatDuration } from '../output.ts';
import { parseCount } from '../store-options.ts';

export function register(program: Command): void {
  program
    .command('demo')
    .description('generate a sample acquisition, copy it into a local "bucket" folder, verify it and print the proof')
    .option('--dir <path>', 'folder for the demo (instrument/, bucket/ and Ferry\'s working files)', 'ferry-demo')
    .addOption(new Option('--tiles <n>', 'number of tile files to generate').default(300).argParser(parseCount('--tiles')))
    .action(async (o, cmd: Command) => {
      const out = new Output({ json: cmd.optsWithGlobals().json });
      const dir = resolve(o.dir);
      process.env.FERRY_WORKDIR ??= join(dir, '.ferry');
      const instrument = join(dir, 'instrument');
      const bucket = join(dir, 'bucket');
      await rm(instrument, { recursive: true, force: true });
      const sample = await writeSampleAcquisition(instrument, o.tiles);
      out.line(`1. generated a sample acquisition: ${sample.files} files, ${formatBytes(sample.bytes)} in ${instrument}`);

      const [src, dst] = [await openStore(instrument), await openStore(bucket)];
      const stats = newStats();
      const started = Date.now();
      const stop = out.startProgress(() => ({ unit: 'files', done: stats.copiedFiles + stats.skippedFiles, total: sample.files, bytesDone: stats.copiedBytes + stats.skippedBytes, bytesTotal: sample.bytes }));
      try {
        await transfer(src, dst, {}, stats);
      } finally {
        stop();
      }
      out.line(`2. copied ${stats.copiedFiles} files (${formatBytes(stats.copiedBytes)}) to ${bucket} in ${formatDuration((Date.now() - started) / 1000)}, ${stats.skippedFiles} already there, ${stats.failedFiles} failed`);

      const report = await check(src, dst, { checksum: true });
      const ok = checkPassed(report) && stats.failedFiles === 0;
      out.line(`3. checked every file by content (CRC32C): ${report.matching} of ${report.compared} identical, ${report.missingOnDestination.length} missing, ${report.differing.length} differing`);
      out.line(ok ? `VERIFIED: ${bucket} holds all ${sample.files} files of the acquisition, byte for byte.` : 'NOT VERIFIED: see the lines above');
      out.line(`Try: ferry sync ${instrument} ${bucket}   (nothing to send), then change a file and sync again.`);
      out.event('summary', { ...stats, failures: undefined, check: { ...report }, verified: ok });
      process.exitCode = ok ? EXIT_OK : EXIT_PARTIAL;
    });
}
