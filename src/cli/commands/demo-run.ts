// ferry demo, the action: the demo recipe run here by local workers in the demo folder's own
// ledger, with the proof printed at the end.
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { Output, formatBytes, formatDuration } from '../output.ts';
import { runRecipeCommand } from '../run-recipe.ts';

export interface DemoOptions {
  dir: string;
  tiles: number;
  workers: number;
}

export async function runDemo(o: DemoOptions, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  const dir = resolve(o.dir);
  const ledger = join(dir, '.ferry', 'ledger.sqlite');
  process.env.FERRY_WORKDIR ??= join(dir, '.ferry');
  const started = Date.now();
  await runRecipeCommand({
    recipe: 'demo',
    input: { dir, tiles: o.tiles },
    ledger,
    out,
    run: 'here',
    concurrency: o.workers,
    onPlanned: ({ plan, runs }) => {
      const f = plan.facts as { instrument: string; files: number; bytes: number };
      out.line(`1. generated a sample acquisition: ${f.files} files, ${formatBytes(f.bytes)} in ${f.instrument}`);
      out.line(`2. planned ${runs[0].jobs} transfer jobs (one per folder, ${runs[0].added} new) in the ledger ${ledger}`);
    },
    onDone: ({ reports }) => {
      const [r] = reports;
      const jobs = (r.data as { jobs: { success: number; total: number; error: number } }).jobs;
      out.line(`3. ${o.workers} local workers ran them in ${formatDuration((Date.now() - started) / 1000)}: ${jobs.success} of ${jobs.total} jobs success, ${jobs.error} error`);
      r.lines.forEach((l, i) => out.line(i === 0 ? `4. ${l}` : l));
      out.line(`Next: FERRY_LEDGER=${ledger} npm run ferry -- status   |   npm run ferry -- sync ${join(dir, 'instrument')} ${join(dir, 'bucket')}`);
      out.event('summary', r.data ?? {});
    },
  });
}
