// --emit-script: the same plan as the shell scripts the facility used to run by hand, for sites
// that still want them: `aws s3 sync|cp` lines for what runs here, `bsub` lines for cluster
// products, grouped into <date>_images.sh, <date>_cluster.sh and <date>_carveouts.sh as before.
import { FerryError } from '../../errors.ts';
import { shellQuote } from '../../runtime/submit.ts';
import type { MouselightLayout } from './layout.ts';
import { usesSubfolder } from './layout.ts';
import type { UploadOp, UploadPlan } from './plan.ts';
import { mmdd } from './sample-date.ts';

/** File name -> script text. */
export function uploadScripts(layout: MouselightLayout, plan: UploadPlan): Map<string, string> {
  if (!layout.bucket.startsWith('s3://')) {
    throw new FerryError(`--emit-script writes aws s3 commands, but the bucket is ${layout.bucket}`, {
      hint: 'run the upload with Ferry itself, or point the layout at an s3:// bucket',
    });
  }
  const scripts = new Map<string, string[]>();
  const counters = new Map<string, number>();
  const add = (file: string, line: string) => {
    if (!scripts.has(file)) scripts.set(file, ['#!/bin/sh', `# ${file}: written by ferry mouselight upload --emit-script`]);
    scripts.get(file)!.push(line);
  };
  for (const op of plan.ops) {
    const file = `${plan.date}_${scriptFor(op)}.sh`;
    if (!op.cluster) {
      for (const cmd of awsCommands(layout, op)) add(file, cmd);
      continue;
    }
    if (!counters.has(op.product)) add(file, `echo ${shellQuote(`Uploading ${op.product}`)}`);
    const n = (counters.get(op.product) ?? 0) + 1;
    counters.set(op.product, n);
    const entries = layout.products[op.product] ?? [];
    const numbered = entries.length > 1 || entries.some(usesSubfolder);
    const name = `${op.product.slice(0, 3)}${mmdd(plan.date)}${numbered ? `-${n}` : ''}`;
    const bsub = ['bsub', '-J', name, '-n', String(layout.cluster.cores), ...(layout.cluster.project ? ['-P', layout.cluster.project] : []), ...(layout.cluster.queue ? ['-q', layout.cluster.queue] : [])];
    for (const cmd of awsCommands(layout, op)) add(file, `${bsub.map(shellQuote).join(' ')} ${shellQuote(cmd)}`);
  }
  return new Map([...scripts].map(([f, lines]) => [f, lines.join('\n') + '\n']));
}

/** Where the facility kept each kind of command. */
function scriptFor(op: UploadOp): string {
  if (!op.cluster) return 'images';
  return op.product === 'carveouts' ? 'carveouts' : 'cluster';
}

function awsCommands(layout: MouselightLayout, op: UploadOp): string[] {
  const flags = ['--only-show-errors', ...(layout.profile ? ['--profile', layout.profile] : []), ...(layout.endpoint ? ['--endpoint-url', layout.endpoint] : [])];
  const folder = op.src.endsWith('/') ? op.src : `${op.src}/`;
  if (!op.files) return [['aws', 's3', 'sync', folder, op.dst, ...flags].map(shellQuote).join(' ')];
  return op.files.map((f) => ['aws', 's3', 'cp', folder + f, op.dst, ...flags].map(shellQuote).join(' '));
}
