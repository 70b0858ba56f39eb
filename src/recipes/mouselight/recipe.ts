// MouseLight sample publishing (seed 001), from the facility's layout file:
// - upload: the chosen products of a sample date as `transfer.sync` jobs in two runs, one run
//   here and one that may go to Slurm / LSF workers (a cluster array given `--run <sample>-cluster`
//   never picks up the local part); asking for a product again retries what failed;
// - neurons: each date's metadata.json, built from NeuronBrowser and the tracings in the bucket,
//   written (and read back) by one `mouselight.metadata` job per file set.
import { z } from 'zod';
import { defineRecipe } from '../../runtime/recipe.ts';
import type { PlannedRun, RunReport } from '../../runtime/recipe.ts';
import { openStore } from '../../storage/open.ts';
import type { StoreOptions } from '../../storage/spec.ts';
import { transferKinds } from '../../transfer/kind.ts';
import { zodInput } from '../input.ts';
import { jobSpec, runName } from './jobs.ts';
import { loadLayout } from './layout.ts';
import type { MouselightLayout } from './layout.ts';
import { buildMetadata } from './metadata.ts';
import { METADATA_JOB, metadataJob } from './metadata-job.ts';
import type { MetadataResult } from './metadata-job.ts';
import { fetchAnswer, neuronMap, readSavedAnswer } from './neuronbrowser.ts';
import { planUpload } from './plan.ts';
import { checkSampleDate, mmdd } from './sample-date.ts';
import { FerryError } from '../../errors.ts';

const list = z.array(z.string().min(1));
const Input = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('upload'),
    config: z.string().min(1),
    sample: z.string(),
    products: list,
    subfolders: list.optional(),
    resync: z.boolean().optional(),
    store: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({
    action: z.literal('neurons'),
    config: z.string().min(1),
    answer: z.string().optional(),
    locations: list.optional(),
    dates: list.optional(),
    store: z.record(z.string(), z.unknown()).optional(),
  }),
]);
export type MouselightInput = z.infer<typeof Input>;

/** The layout's storage settings, overridden by any storage option given. */
export function layoutStoreOptions(layout: MouselightLayout, given: Record<string, unknown> = {}): StoreOptions {
  const set = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { profile: layout.profile, region: layout.region, endpoint: layout.endpoint, ...set };
}

export const recipe = defineRecipe<MouselightInput>({
  name: 'mouselight',
  title: 'MouseLight: publish a sample\'s products and per-date neuron metadata',
  input: zodInput(Input, 'MouseLight input'),
  kinds: { ...transferKinds, [METADATA_JOB]: async () => (await import('./metadata-job.ts')).metadataHandler },

  async plan(input) {
    const layout = await loadLayout(input.config);
    const store = layoutStoreOptions(layout, input.store);
    if (input.action === 'upload') {
      const date = checkSampleDate(input.sample);
      const plan = await planUpload(layout, { date, products: input.products, subfolders: input.subfolders });
      const runs: PlannedRun[] = [];
      for (const cluster of [false, true]) {
        const ops = plan.ops.filter((o) => o.cluster === cluster);
        if (ops.length === 0) continue;
        runs.push({
          name: runName(date, cluster),
          labels: { sample: date },
          // Jobs are keyed by product: a layout that sends a product elsewhere is another run.
          identity: { bucket: layout.bucket, destinations: destinations(layout) },
          jobs: ops.map((o) => jobSpec(o, store)),
          // The user asked for these products again: what failed runs again, and with --resync
          // what was verified is synced again for what its sources gained since.
          requeue: input.resync ? 'all' : 'failed',
          placement: cluster ? 'cluster' : 'here',
          cluster: { name: `ml${mmdd(date)}`, queue: layout.cluster.queue, project: layout.cluster.project },
        });
      }
      return { runs, warnings: plan.warnings, facts: { sample: date, plan } };
    }

    for (const d of input.dates ?? []) checkSampleDate(d);
    let answer: unknown;
    let source: string;
    if (input.answer) {
      source = input.answer;
      answer = await readSavedAnswer(input.answer);
    } else if (layout.neurons.graphql) {
      source = layout.neurons.graphql;
      answer = await fetchAnswer(source, layout.neurons.timeoutSeconds * 1000);
    } else {
      throw new FerryError(`${input.config} names no NeuronBrowser endpoint (neurons.graphql)`, { hint: 'add it to the layout, or pass a saved answer with --answer FILE' });
    }
    const map = neuronMap(answer, source, layout.neurons.timeZone);
    const bucket = await openStore(layout.bucket, store);
    try {
      const build = await buildMetadata(bucket, map, input.locations ?? layout.neurons.locations, input.dates);
      const warnings = [...build.warnings];
      const rejected: { item: string; reason: string }[] = [];
      const good = build.dates.filter((d) => {
        if (d.swcProblems.length === 0) return true;
        for (const p of d.swcProblems) warnings.push(`malformed SWC: ${p}`);
        warnings.push(`${d.location}/${d.date}: not written, it references malformed SWC files`);
        rejected.push({ item: `${d.location}/${d.date}`, reason: 'references malformed SWC files' });
        return false;
      });
      const jobs = good.map((d) => metadataJob(layout.bucket, store, d.location, d.date, d.keys, d.body));
      return {
        runs: [{ name: 'mouselight-neurons', labels: { bucket: layout.bucket }, identity: { bucket: layout.bucket }, jobs, requeue: 'all' }],
        warnings,
        rejected,
        facts: { bucket: bucket.url, dates: build.dates },
      };
    } finally {
      await bucket.close();
    }
  },

  async report(view): Promise<RunReport> {
    if (view.run.name !== 'mouselight-neurons') return uploadReport(view.run.name, await view.jobs());
    const jobs = await view.jobs();
    const results = jobs.filter((j) => j.state === 'success').map((j) => j.result as MetadataResult);
    const failed = jobs.filter((j) => j.state !== 'success');
    const lines = results.flatMap((r) => r.keys.map((k) => `wrote ${r.bucket}${k} (${r.neurons} neurons, verified)`));
    for (const j of failed) lines.push(`${j.key}: not written: ${j.lastError ?? j.state}`);
    return { run: view.run.name, ok: failed.length === 0, lines, data: { written: results.reduce((n, r) => n + r.keys.length, 0), failed: failed.length } };
  },
});

/** "images: images/{date}/; registration: registration/{date}/; ...": where each product goes. */
function destinations(layout: MouselightLayout): string {
  const products = Object.entries(layout.products).map(([p, sources]) => `${p}: ${sources.map((s) => s.destination).join(', ')}`);
  return [`images: ${layout.images.destination}`, ...products].join('; ');
}

function uploadReport(run: string, jobs: { state: string }[]): RunReport {
  const failed = jobs.filter((j) => j.state === 'error' || j.state === 'cancelled').length;
  return { run, ok: failed === 0, lines: [], data: { jobs: jobs.length, failed } };
}
