// The action of `ferry mouselight neurons` (see mouselight.ts): the MouseLight recipe builds each
// date's metadata.json; without --write it is printed (a dry run), with --write each file set is a
// job run here that writes it and reads it back.
import type { Command } from 'commander';
import type { DateMetadata } from '../../recipes/mouselight/metadata.ts';
import { Output } from '../output.ts';
import { runRecipeCommand } from '../run-recipe.ts';
import { storeOptionsFrom } from '../store-options.ts';

export async function neurons(cmd: Command): Promise<void> {
  const o = cmd.optsWithGlobals();
  const out = new Output({ json: o.json });
  const write = Boolean(o.write);
  let built: DateMetadata[] = [];
  let bucketUrl = '';
  await runRecipeCommand({
    recipe: 'mouselight',
    input: { action: 'neurons', config: o.config, answer: o.answer, locations: o.location, dates: o.date, store: storeOptionsFrom(o) },
    ledger: o.ledger,
    out,
    dryRun: !write,
    run: 'here',
    onPlanned: ({ plan }) => {
      const f = plan.facts as { bucket: string; dates: DateMetadata[] };
      built = f.dates;
      bucketUrl = f.bucket;
      for (const d of f.dates) {
        if (d.swcProblems.length) {
          out.event('metadata', { location: d.location, date: d.date, keys: d.keys, written: false, swcProblems: d.swcProblems });
          continue;
        }
        if (!write) {
          for (const key of d.keys) {
            out.line(`would write ${f.bucket}${key}:`);
            out.line(`  ${d.body.toString('utf8')}`);
          }
          out.event('metadata', { location: d.location, date: d.date, keys: d.keys, written: false, metadata: d.metadata });
        }
      }
    },
    onDone: ({ reports }) => {
      const bad = built.filter((d) => d.swcProblems.length).length;
      let written = 0;
      for (const r of reports) {
        for (const l of r.lines) out.line(l);
        written += (r.data?.written as number | undefined) ?? 0;
      }
      for (const d of built.filter((x) => write && x.swcProblems.length === 0)) {
        out.event('metadata', { location: d.location, date: d.date, keys: d.keys, written: true, metadata: d.metadata, bucket: bucketUrl });
      }
      out.line(`${built.length - bad} date(s) built${write ? `, ${written} file(s) written and verified` : ' (run with --write to upload)'}${bad ? `; ${bad} date(s) skipped for malformed SWC` : ''}`);
    },
  });
}
