// The action of `ferry mouselight neurons` (see mouselight.ts).
import type { Command } from 'commander';
import { EXIT_PARTIAL, FerryError } from '../../errors.ts';
import { loadLayout } from '../../recipes/mouselight/layout.ts';
import { buildMetadata } from '../../recipes/mouselight/metadata.ts';
import { fetchAnswer, neuronMap, readSavedAnswer } from '../../recipes/mouselight/neuronbrowser.ts';
import { checkSampleDate } from '../../recipes/mouselight/sample-date.ts';
import { openStore } from '../../storage/open.ts';
import { Output } from '../output.ts';
import { layoutStoreOptions } from './mouselight.ts';

export async function neurons(cmd: Command): Promise<void> {
  const o = cmd.optsWithGlobals();
  const out = new Output({ json: o.json });
  const layout = await loadLayout(o.config);
  for (const d of o.date ?? []) checkSampleDate(d);
  let answer: unknown;
  let source: string;
  if (o.answer) {
    source = o.answer;
    answer = await readSavedAnswer(o.answer);
  } else if (layout.neurons.graphql) {
    source = layout.neurons.graphql;
    answer = await fetchAnswer(source, layout.neurons.timeoutSeconds * 1000);
  } else {
    throw new FerryError(`${o.config} names no NeuronBrowser endpoint (neurons.graphql)`, { hint: 'add it to the layout, or pass a saved answer with --answer FILE' });
  }
  const map = neuronMap(answer, source, layout.neurons.timeZone);
  const bucket = await openStore(layout.bucket, layoutStoreOptions(layout, o));
  try {
    const build = await buildMetadata(bucket, map, o.location ?? layout.neurons.locations, o.date);
    for (const w of build.warnings) out.warn(w);
    let bad = 0;
    let written = 0;
    for (const d of build.dates) {
      if (d.swcProblems.length) {
        bad++;
        for (const p of d.swcProblems) out.warn(`malformed SWC: ${p}`);
        out.warn(`${d.location}/${d.date}: not written, it references malformed SWC files`);
        out.event('metadata', { location: d.location, date: d.date, keys: d.keys, written: false, swcProblems: d.swcProblems });
        continue;
      }
      const body = d.body;
      for (const key of d.keys) {
        if (o.write) {
          await bucket.write(key, body, { contentType: 'application/json' });
          // Read back: the file counts as published only when the bucket serves these bytes.
          if (!(await bucket.readBytes(key)).equals(body)) throw new FerryError(`${bucket.url}${key} does not hold what was written`, { exitCode: 1 });
          written++;
          out.line(`wrote ${bucket.url}${key} (${Object.keys(d.metadata.neurons).length} neurons, verified)`);
        } else {
          out.line(`would write ${bucket.url}${key}:`);
          out.line(`  ${body.toString('utf8')}`);
        }
      }
      out.event('metadata', { location: d.location, date: d.date, keys: d.keys, written: Boolean(o.write), metadata: d.metadata });
    }
    out.line(`${build.dates.length - bad} date(s) built${o.write ? `, ${written} file(s) written and verified` : ' (run with --write to upload)'}${bad ? `; ${bad} date(s) skipped for malformed SWC` : ''}`);
    if (bad) process.exitCode = EXIT_PARTIAL;
  } finally {
    await bucket.close();
  }
}
