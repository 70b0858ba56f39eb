// JUMP benchmark (issue 4): one plate of 20,000 files of 16 KiB to the real S3 server, Ferry's plate
// job (plan + worker) against `aws s3 sync`, which the gallery's upload guide tells labs to run.
//   npm run bench -- jump     (needs the S3 service running and its env exported)
//   FERRY_BENCH_SMALL=1000 npm run bench -- jump     (a quick run on a smaller plate)
import { join } from 'node:path';
import { makeTree } from '../src/testing/tree.ts';
import { aws, cleanup, dropBuckets, env, ferry, freshBucket, report, requireS3, root, row, timed } from './lib.ts';
import type { Result } from './lib.ts';

requireS3();
const FILES = Number(process.env.FERRY_BENCH_SMALL ?? 20_000);
const results = join(root, 'results');
const plate = join(results, 'cpg0016-jump/source_1/workspace/segmentation/cellpose/objects/B1/PLATE1');
await makeTree(join(plate, 'PLATE1.zarr'), FILES, 16 * 1024, 400);

const rs: Result[] = [];
const jobEnv = { ...env, FERRY_LEDGER: join(root, 'jump-ledger.sqlite') };
const ferryRow = 'ferry work (the plate job, default)';
rs.push(await row(ferryRow, async () => {
  const b = await freshBucket();
  const plan = timed('ferry jump plan', ferry('jump', 'plan', '--results', results, '--dest', `s3://${b}/LAB`, '--run', 'bench'), { env: jobEnv });
  if (!plan.ok) throw new Error(`ferry jump plan failed: ${plan.error}`);
  return timed(ferryRow, ferry('work', '--run', 'bench', '--until-empty'), { env: jobEnv });
}));
await dropBuckets(); // aws meets the same empty server Ferry did
const awsRow = 'aws s3 sync (default)';
rs.push(await row(awsRow, async () => timed(awsRow, aws('s3', 'sync', plate, `s3://${await freshBucket()}/LAB/`, '--only-show-errors', '--acl', 'bucket-owner-full-control'))));
report(`One JUMP plate: ${FILES.toLocaleString('en')} files of 16 KiB to S3`, rs, 'at least 3x faster than aws s3 sync');
await cleanup();
